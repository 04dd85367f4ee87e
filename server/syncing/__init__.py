"""The server side of sync: the SQLAlchemy store the engine runs on, the change order, the view."""
