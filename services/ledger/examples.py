"""Examples of the read API's answers, shown in its OpenAPI document (docs/api/ledger.json).

One alert's story: a market buy of 0.01 BTC on the tenant's `main` account, filled at once.
Data only: the models of `schemas` and `feed_schemas` refer to these in their ``model_config``.
"""

from __future__ import annotations

from pydantic.config import JsonDict

AT = "2026-12-05T20:00:01.250000Z"
INTENT_ID = "01JEA4B2C3D4E5F6G7H8J9K0M1"
CLIENT_ORDER_ID = "spk-01JEA4B2C3D4E5F6G7H8J9K0M1-0"

FEE: JsonDict = {"currency": "USDT", "amount": "0.600125"}
POSITION: JsonDict = {
    "account": "main",
    "exchange": "binance",
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "side": "long",
    "quantity": "0.01",
    "average_entry_price": "60012.5",
    "realized_pnl": "0",
    "realized_pnl_currency": "USDT",
    "fees": [FEE],
    "fills": 1,
    "opened_at": AT,
    "updated_at": AT,
    "mark_price": "60250",
    "unrealized_pnl": "2.375",
    "venue_unrealized_pnl": None,
    "venue_quantity": None,
    "venue_entry_price": None,
    "liquidation_price": None,
    "marked_at": AT,
}
TRADE: JsonDict = {
    "id": "01JEA4B3D4E5F6G7H8J9K0M1N2",
    "time": AT,
    "account": "main",
    "exchange": "binance",
    "symbol": "BTC/USDT",
    "side": "buy",
    "price": "60012.5",
    "amount": "0.01",
    "fee": "0.600125",
    "fee_currency": "USDT",
    "trade_id": "28457",
    "client_order_id": CLIENT_ORDER_ID,
    "exchange_order_id": "8389765543",
    "intent_id": INTENT_ID,
}
HISTORY: JsonDict = {
    "kind": "order.filled",
    "status": "filled",
    "occurred_at": AT,
    "detail": {"filled_amount": "0.01"},
}
ORDER: JsonDict = {
    "client_order_id": CLIENT_ORDER_ID,
    "account": "main",
    "exchange": "binance",
    "symbol": "BTC/USDT",
    "side": "buy",
    "status": "filled",
    "exchange_order_id": "8389765543",
    "order_type": "market",
    "amount": "0.01",
    "price": None,
    "filled_amount": "0.01",
    "average_fill_price": "60012.5",
    "reason": None,
    "reason_code": None,
    "created_at": AT,
    "updated_at": AT,
    "role": "order",
    "parent_client_order_id": None,
    "trigger_price": None,
    "reduce_only": False,
    "leverage": None,
    "history": [HISTORY],
    "fills": [TRADE],
}
INTENT: JsonDict = {
    "status": "accepted",
    "symbol": "BTC/USDT",
    "action": "buy",
    "received_at": AT,
    "accepted_at": AT,
    "rejected_at": None,
    "reject_reason": None,
    "reject_message": None,
}
TRAIL: JsonDict = {
    "intent_id": INTENT_ID,
    "intent": INTENT,
    "orders": [ORDER],
    "protection_failed": [],
}
CANCEL_REQUESTED: JsonDict = {
    "cancel_requested": True,
    "intent_id": INTENT_ID,
    "client_order_id": CLIENT_ORDER_ID,
}
FUNDING: JsonDict = {
    "id": "01JEA4B4E5F6G7H8J9K0M1N2P3",
    "time": "2026-12-05T16:00:00Z",
    "account": "futures",
    "exchange": "binanceusdm",
    "symbol": "BTC/USDT:USDT",
    "amount": "-0.0421",
    "currency": "USDT",
    "funding_id": "1733414400000",
}
DAY: JsonDict = {
    "day": "2026-12-05",
    "account": "main",
    "currency": "USDT",
    "realized_pnl": "12.5",
    "fees": "1.2",
    "volume": "1200.25",
    "fills": 2,
    "funding": "0",
}
PNL_TOTAL: JsonDict = {
    "account": "main",
    "currency": "USDT",
    "realized_pnl": "12.5",
    "fees": "1.2",
    "funding": "0",
    "unrealized_pnl": "2.375",
    "total": "13.675",
}
ALERT: JsonDict = {
    "intent_id": INTENT_ID,
    "webhook_id": "01JEA3K6Q2R4S6T8V0W2X4Y6Z8",
    "received_at": AT,
    "updated_at": AT,
    "action": "buy",
    "symbol": "BTC/USDT",
    "strategy": "btc-trend",
    "status": "filled",
    "outcome": None,
    "reason": None,
    "filled_amount": "0.01",
    "average_price": "60012.5",
    "seq": 1042,
}
ALERT_EVENT: JsonDict = {**HISTORY, "client_order_id": CLIENT_ORDER_ID, "after_ms": 412}
ALERT_DETAIL: JsonDict = {
    "alert": ALERT,
    "orders": [ORDER],
    "fills": [TRADE],
    "events": [ALERT_EVENT],
}
STRATEGY: JsonDict = {
    "strategy": "btc-trend",
    "alerts": 120,
    "trades": 58,
    "wins": 33,
    "losses": 25,
    "win_rate": 0.569,
    "realized_pnl": "412.75",
    "currency": "USDT",
    "realized_pnl_by_currency": {"USDT": "412.75"},
    "last_signal_at": AT,
}
DAILY_PNL: JsonDict = {
    "day": "2026-12-05",
    "currency": "USDT",
    "realized_pnl": "12.5",
    "cumulative_pnl": "412.75",
    "trades": 2,
}
TRADES_CSV = (
    "time,account,exchange,symbol,side,price,amount,fee,fee_currency,trade_id,"
    "client_order_id,exchange_order_id,intent_id\n"
    f"{AT},main,binance,BTC/USDT,buy,60012.5,0.01,0.600125,USDT,28457,{CLIENT_ORDER_ID},"
    f"8389765543,{INTENT_ID}\n"
)
ALERT_STREAM = (
    ': keepalive\n\nid: 1042\nevent: alert\ndata: {"intent_id": "' + INTENT_ID + '", '
    '"status": "filled", "seq": 1042, …}\n\n'
)
