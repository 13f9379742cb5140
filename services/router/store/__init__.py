"""State: the Postgres tables, declared once (`tables`), the settings store and its records,
the Redis state (quotas, kept decisions, positions), and the caches of settings and accounts."""
