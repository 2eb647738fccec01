"""Webhooks: subscriptions, an outbox of deliveries written with the assessments, and the delivery worker."""
