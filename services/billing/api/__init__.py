"""Billing's HTTP API: operator routes, tenant routes, and Stripe's webhook."""
