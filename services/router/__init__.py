"""The router service: turns each intent into orders or a rejection, and serves the trade
settings API.

Rooms: `app` the wiring; `config` the settings; `runtime` the long-lived `RouterRuntime`
(everything one process runs); `api/` the settings routes, their dependencies and error
answers; `handlers/` messages in (intents, positions); `domain/` pure decisions (checks,
legs, exits, leverage, trade settings, the decision as kept); `store/` the tables, declared
once, the settings store, the Redis state and the caches of settings and accounts;
`publisher` and `announcer` messages out (orders, rejections, kill-switch events); `errors`;
`metrics`. No `fsm`: the router decides once per intent and keeps no order state.
"""
