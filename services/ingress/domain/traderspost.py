"""TradersPost's message dialect, so a migrating trader's templates work as written.

``sentiment`` is the position *after* the signal (bullish/long, bearish/short, flat). It
changes the action, never sets ``market_position`` (that would make the alert a
target-position alert):

=====================  ======================  ============================================
action                 sentiment               Sparky does
=====================  ======================  ============================================
buy                    bullish, long           buy
sell                   bearish, short          sell
sell                   bullish, long           close_long: the quantity given, else all
buy                    bearish, short          close_short: the quantity given, else all
sell                   flat                    close_long: all of it (the quantity is moot)
buy                    flat                    close_short: all of it
add                    bullish, long           buy
add                    bearish, short          sell
add                    (none)                  add (in the open position's direction)
add                    flat                    refused: adding cannot leave you flat
exit, close…, cancel   anything                as written (exit means out, whatever follows)
=====================  ======================  ============================================

``quantityType``: ``fixed_quantity`` → base, ``dollar_amount`` → quote,
``percent_of_equity``, ``percent_of_position``; the risk-based ones are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from libs.common.messages import Action, MarketPosition, QuantityType
from services.ingress.domain.values import FieldValueError

SENTIMENTS = MappingProxyType(
    {
        "bullish": MarketPosition.LONG,
        "long": MarketPosition.LONG,
        "bearish": MarketPosition.SHORT,
        "short": MarketPosition.SHORT,
        "flat": MarketPosition.FLAT,
    }
)
QUANTITY_TYPES = MappingProxyType(
    {t.value: t for t in QuantityType}
    | {
        "fixed_quantity": QuantityType.BASE,
        "dollar_amount": QuantityType.QUOTE,
        "percent_of_equity": QuantityType.PERCENT_EQUITY,
        "percent_of_position": QuantityType.PERCENT_POSITION,
    }
)
RISK_SIZED = frozenset({"risk_dollar_amount", "risk_percent"})
RISK_SIZED_REFUSAL = (
    "is sized by risk, which Sparky does not do; use a fixed quantity, dollar_amount or "
    "percent_of_equity, with a stop_loss"
)

_LONG, _SHORT, _FLAT = MarketPosition.LONG, MarketPosition.SHORT, MarketPosition.FLAT
_RESOLVED = MappingProxyType(
    {
        (Action.BUY, _LONG): Action.BUY,
        (Action.BUY, _SHORT): Action.CLOSE_SHORT,
        (Action.BUY, _FLAT): Action.CLOSE_SHORT,
        (Action.SELL, _SHORT): Action.SELL,
        (Action.SELL, _LONG): Action.CLOSE_LONG,
        (Action.SELL, _FLAT): Action.CLOSE_LONG,
        (Action.ADD, _LONG): Action.BUY,
        (Action.ADD, _SHORT): Action.SELL,
    }
)


@dataclass(frozen=True, slots=True)
class Resolved:
    """The action a sentiment leads to; ``close_all``: the quantity given no longer counts."""

    action: Action
    close_all: bool = False


def resolve(action: Action, sentiment: MarketPosition | None) -> Resolved:
    """Return what ``action`` with ``sentiment`` asks for; raise `FieldValueError` (about
    the sentiment) when the two contradict each other.
    """
    if sentiment is None or action not in (Action.BUY, Action.SELL, Action.ADD):
        return Resolved(action)
    found = _RESOLVED.get((action, sentiment))
    if found is None:
        raise FieldValueError("is flat, but add adds to a position: use exit or sell to close")
    return Resolved(found, close_all=sentiment is _FLAT)
