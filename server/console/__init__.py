"""The supervisors' console (issue 6)."""
