"""The console's catalogue pages (being written)."""
