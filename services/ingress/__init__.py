"""The ingress service: TradingView's webhook, which authenticates, reads and stores each
alert as an intent.

Rooms: `app` the wiring; `config` the settings; `runtime` the long-lived `IngressRuntime`;
`api/` the webhook route, its OpenAPI document, request tracing and the access log;
`handlers` the webhook's steps, in order; `domain/` pure rules (who may call, reading and
normalising an alert); `adapters/` its I/O (the JetStream publisher, the Redis rate limit,
refusal reports) in place of a `store`: ingress has no tables; `errors`; `metrics`. No
`fsm`: an alert is answered once and has no state to follow.
"""
