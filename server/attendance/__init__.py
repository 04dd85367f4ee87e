"""Butlers' daily check-in (签到/签退) from the phone, and the attendance it adds up to."""
