"""Postgres: the tables (declared once), the engine and its two kinds of transaction, and the
rows of channels, deliveries, tenant keys and the bot; each function works in the caller's
transaction."""
