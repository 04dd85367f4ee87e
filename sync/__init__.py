"""The sync engine: protocol, merge, cursor and scopes, with no Flask import."""
