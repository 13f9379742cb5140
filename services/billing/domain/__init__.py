"""Billing's pure rules: plans and tenants, secrets, operators, usage, Stripe's events. No I/O."""
