"""The notifier: tells traders what happened (fills, rejections, failures…) on the channels they
verified (Telegram, Discord, email, a signed webhook), and runs the Telegram bot (issue 19).

Rooms: `app` (wiring and lifespan) · `config` · `runtime` (`Runtime`, the long-lived object) ·
`api/` (routes; `schemas` their bodies) · `handlers` (the EVENTS consumer) · `domain/` (pure
rules) · `store/` (its tables, declared once in `store.tables`, the engine and the rows) ·
`errors`. Beside them: `channels/` (one module per kind behind one interface), `bot/` (the
Telegram bot), `manage` (what the channel routes do), `sender` (the delivery loop), `summary`
(the daily email), `keys` and `sealing` (the tenant key it acts with, sealed values). No
`fsm`: a delivery's states (pending → sending → sent or dead) are set-based updates in
`store.deliveries`, described there.
"""
