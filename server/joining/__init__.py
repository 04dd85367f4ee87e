"""Residents join a household: invites, requests to join, several residents per household."""
