"""Webhooks: one topic table, the durable intake, processing from the outbox, subscriptions."""
