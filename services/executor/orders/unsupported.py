"""Parts of a `PlaceOrder` the executor cannot act on: the order is refused, not trimmed.

The router refuses these in words already; this is the last line of defence against an older
router, a hand-published command or a future change. An entry placed without the take-profit or
stop-loss it asked for would be unprotected, and a spot order placed for an order that asked for
leverage would be a different trade than the trader meant. So such a `PlaceOrder` becomes
``OrderRejected`` (code ``unsupported_order``) and nothing reaches the exchange. What a venue's
market can hold is data (`Venue.protection`): USDⓈ-M futures on Binance hold every kind of
protective order, Binance spot a take-profit and a stop or stop-limit (an OCO), no trailing
stop. Pure.
"""

from __future__ import annotations

from libs.common.messages import PlaceOrder, PriceTarget
from libs.common.records import MarketType
from services.executor.adapters.venues import venue_for
from services.executor.domain import TradingAccount

CODE = "unsupported_order"


def unsupported_reason(command: PlaceOrder, account: TradingAccount) -> str | None:
    """Return why ``command`` cannot be placed as asked on ``account``, or None."""
    levered = command.leverage is not None and command.leverage != 1
    spot = account.market_type is MarketType.SPOT
    if spot and (levered or command.margin_mode is not None):
        return (
            f"Leverage and margin mode need a futures account, and account "
            f"'{command.account_label}' trades spot; the order was not placed. Remove "
            "leverage from the alert."
        )
    venue = venue_for(account.exchange_id, account.market_type)
    native = venue.protection.native if venue is not None else frozenset()
    for name, target in (("take-profit", command.take_profit), ("stop-loss", command.stop_loss)):
        if target is not None and target.kind not in native:
            return _cannot_hold(name, target, account)
    return None


def _cannot_hold(name: str, target: PriceTarget, account: TradingAccount) -> str:
    market = account.market_type.value
    kind = "" if target.kind.value == "market" else f"{target.kind.value} "
    return (
        f"A {kind}{name} cannot be held on {account.exchange_id} {market} accounts, and an "
        "entry without it would be unprotected; the order was not placed. Use another kind, "
        f"a futures account, or remove the {name} from the alert or the trade settings."
    )
