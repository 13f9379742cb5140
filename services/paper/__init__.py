"""The paper exchange: enough of Binance's spot and USDⓈ-M futures REST APIs for ccxt, with
simulated fills.

Rooms: `app` (wiring and lifespan) · `config` · `runtime` (`Runtime`, the long-lived object)
· `api/` (routes: spot, futures, the operator's ``/admin``) · `domain/` (pure decisions) ·
`store/` (the state file: its tables, declared once, and its transactions) · `errors`
(Binance's error answers). Binance's dialect keeps its own modules: `wire`, `render`,
`signing`, `protocol`, `markets`, `models`, and `futures/` (the futures engine and its wire,
render, errors and markets). `exchange` is the spot engine, `matcher` its background loop,
`prices`/`live_prices` the price feeds, `faults` and `limits` the test knobs and the request
weight. No `handlers` (it consumes no messages) and no `fsm`: an order is NEW until it fills
(at once, whole), is canceled or expires, each final.
"""
