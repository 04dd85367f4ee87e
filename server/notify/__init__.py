"""Notifications: a transactional outbox of ticket events, delivered by a worker (Web Push, webhooks)
and read by open apps (a long poll). See docs/notifications.md."""
