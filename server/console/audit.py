"""The console's audit pages (being written)."""
