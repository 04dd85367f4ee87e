"""The console's attendance pages (being written)."""
