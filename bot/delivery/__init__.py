"""Delivery: the outbox drained to Telegram under its limits, over our transport."""
