"""Backups of a whole deployment: the database, the keys that must travel with it, the photos' bytes."""
