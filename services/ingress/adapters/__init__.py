"""Ingress's I/O: intents stored in JetStream (`publisher`), the per-tenant rate limit in
Redis (`ratelimit`), refused alerts reported to the feed (`refusals`)."""
