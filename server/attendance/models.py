"""attendance: models (being written)."""
