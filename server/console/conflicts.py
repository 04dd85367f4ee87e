"""The console's conflicts pages (being written)."""
