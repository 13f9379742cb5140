"""Billing's connections to the outside: the KV buckets and Stripe."""
