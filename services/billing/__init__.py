"""Billing: tenants and their plans, Stripe payments, webhooks and API keys, operators and
their audit log, and usage; Postgres is the truth, the config-plane KV buckets its copy.

Rooms: `app` (wiring and lifespan) · `config` · `runtime` (`Runtime`, what every use case
holds) · `api/` (routes; `schemas` and `views` are their bodies) · `handlers` (the usage
consumer) · `domain/` (pure rules) · `fsm` (a tenant's lifecycle) · `store/` (its tables,
declared once in `store.tables`, and queries) · `adapters/` (KV buckets, events, Stripe) ·
`errors`. Beside them, one module per use case (`accounts`, `webhooks`, `api_keys`,
`signups`, `payments`, `usage`, `operators`, with `issuing`, `deletions` and `notices` they
share), `jobs` (periodic work) and `sync` (buckets repaired from Postgres).
"""
