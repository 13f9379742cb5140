"""The webhook over HTTP: the route (`webhook`), its OpenAPI document, request tracing and
the sampled access log."""
