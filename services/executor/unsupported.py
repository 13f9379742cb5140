"""Parts of a `PlaceOrder` the executor cannot act on yet: the order is refused, not trimmed.

The router already refuses these in words; this is the last line of defence against an older
router, a hand-published command or a future change. An entry placed without the take-profit
or stop-loss it asked for would be unprotected, and a spot order placed for an order that asked
for leverage would be a different trade than the trader meant. So such a `PlaceOrder` becomes
``OrderRejected`` (code ``unsupported_order``) and nothing reaches the exchange. Pure.
"""

from __future__ import annotations

from libs.common.messages import PlaceOrder
from libs.common.records import MarketType

CODE = "unsupported_order"


def unsupported_reason(command: PlaceOrder, market: MarketType) -> str | None:
    """Return why ``command`` cannot be placed as asked on a ``market`` account, or None."""
    if command.take_profit is not None or command.stop_loss is not None:
        return (
            "Take-profit and stop-loss orders are not supported yet; the order was not placed "
            "(an entry without them would be unprotected). Remove tp/sl from the alert or the "
            "trade settings."
        )
    levered = command.leverage is not None and command.leverage != 1
    if market is MarketType.SPOT and (levered or command.margin_mode is not None):
        return (
            f"Leverage and margin mode need a futures account, and account "
            f"'{command.account_label}' trades spot; the order was not placed. Remove "
            "leverage from the alert."
        )
    return None
