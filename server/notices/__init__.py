"""Community notices (公告): what supervisors announce and butlers and residents read."""
