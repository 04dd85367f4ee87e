"""audit: models (being written)."""
