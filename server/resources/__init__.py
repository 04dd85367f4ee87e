"""Generic record access: one path for every read and write, through the scope rules."""
