"""The ledger service: the projections of EVENTS (orders, trades, positions, PnL, the
alert feed) in Postgres, and the read API over them.

Rooms: `app` the wiring (ASGI app, ops endpoints); `config` the settings; `runtime` the
long-lived `LedgerRuntime` (connections, KV mirrors, the projector task); `api/` the read
API (routes, their response models, their queries under row-level security); `handlers/`
messages in (the projector, its consumer, decoding, the rebuild command); `domain/` pure
rules (position arithmetic, how events fold into rows); `store/` the tables, declared once,
and the projector's writes; `errors`; `metrics`. No `fsm`: orders follow the one order
state machine, `libs.common.fsm`.
"""
