"""`make load`: many phones at once against one or two real app servers (see bench/load/__main__.py)."""
