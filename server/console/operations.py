"""The console's operations pages (being written)."""
