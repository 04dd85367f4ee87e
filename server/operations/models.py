"""operations: models (being written)."""
