"""The supervisors' console."""
