"""When a strategy position is not what it should be, and what to tell the trader. Pure.

Three findings, each a ``position.drift`` event in the alert's trail:

- ``wallet``: sizing found the wallet holding less of the coin than the strategy bought; the
  difference was written off the strategy position (`domain`).
- ``tradingview``, healed: the alert said where TradingView's strategy stands after it, the
  alert's own order would have missed that, and healing is on: the order was sized to reach it.
- ``tradingview``, after the order: once the order has filled, the strategy position differs
  from what TradingView said by more than the market's lot size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.fsm import OrderState
from libs.common.messages import DriftSource
from libs.common.positions import base_of, is_contract
from services.executor.domain import OrderRecord
from services.executor.orders.sizing import plain

ZERO = Decimal(0)
_MANUAL = "an earlier alert of this strategy that was missed or refused, or a trade made by hand"


@dataclass(frozen=True, slots=True)
class Drift:
    """One finding, as the event will carry it; ``key`` makes its id stable per order."""

    key: str
    source: DriftSource
    expected: Decimal
    actual: Decimal
    message: str
    written_off: Decimal = ZERO
    healed: bool = False


def before_order(record: OrderRecord) -> list[Drift]:
    """Return what sizing found before the order was sent (recorded with it)."""
    found: list[Drift] = []
    coin, held = base_of(record.symbol), record.position_before
    if record.written_off and held is not None and is_contract(record.symbol):
        venue = held - record.written_off
        found.append(
            Drift(
                key="wallet",
                source=DriftSource.WALLET,
                expected=held,
                actual=venue,
                written_off=abs(record.written_off),
                message=(
                    f"The account's {record.symbol} position holds {plain(venue)} {coin} of "
                    f"the {plain(held)} {coin} this strategy opened: the rest was closed "
                    "outside Sparky or liquidated, and is written off the strategy's position."
                ),
            )
        )
    elif record.written_off and held is not None:
        wallet = held - record.written_off
        found.append(
            Drift(
                key="wallet",
                source=DriftSource.WALLET,
                expected=held,
                actual=wallet,
                written_off=record.written_off,
                message=(
                    f"Your wallet holds {plain(wallet)} {coin}, less than the {plain(held)} "
                    f"{coin} this strategy bought: {plain(record.written_off)} {coin} were "
                    "sold or moved outside Sparky. They are written off the strategy's "
                    "position"
                    + (
                        "."
                        if record.state is OrderState.REJECTED
                        else ", and the order was sized to what is there."
                    )
                ),
            )
        )
    expected = _expected(record)
    if record.healed and expected is not None and held is not None:
        actual = held - record.written_off
        found.append(
            Drift(
                key="healed",
                source=DriftSource.TRADINGVIEW,
                expected=expected,
                actual=actual,
                healed=True,
                message=(
                    f"TradingView says this strategy holds {plain(expected)} {coin} after this "
                    f"alert; Sparky's strategy position was {plain(actual)} {coin} before it, "
                    "and the alert's own order would not have reached TradingView's. Likely "
                    f"cause: {_MANUAL}. The order was sized to restore TradingView's position "
                    "(healing is on in your trade settings)."
                ),
            )
        )
    return found


def after_fill(record: OrderRecord, position: Decimal, tolerance: Decimal) -> Drift | None:
    """Return the drift left once the order has filled (``position`` is the strategy's now).

    ``tolerance``: the lot size, plus the fees taken in the coin since the position was last
    flat (TradingView's position does not count those).
    """
    expected = _expected(record)
    if expected is None or abs(expected - position) <= tolerance:
        return None
    coin = base_of(record.symbol)
    return Drift(
        key="after",
        source=DriftSource.TRADINGVIEW,
        expected=expected,
        actual=position,
        message=(
            f"TradingView says this strategy holds {plain(expected)} {coin} after this alert; "
            f"after its order Sparky's strategy position is {plain(position)} {coin} (a "
            f"difference of {plain(position - expected)}). Likely cause: {_cause(record)}."
            + ("" if record.healed else _HEAL_HINT)
        ),
    )


_HEAL_HINT = (
    " Sparky placed the order the alert asked for; set position_drift to heal in your trade "
    "settings to have orders sized to TradingView's position instead."
)


def _expected(record: OrderRecord) -> Decimal | None:
    """TradingView's position as the account can hold it (on spot a short means none)."""
    if record.expected_position is None:
        return None
    if is_contract(record.symbol):
        return record.expected_position
    return max(record.expected_position, ZERO)


def _cause(record: OrderRecord) -> str:
    if record.amount is not None and record.filled < record.amount:
        return f"this order filled only {plain(record.filled)} of {plain(record.amount)}"
    if record.written_off:
        return "coins were sold or moved outside Sparky (see the wallet finding above)"
    if record.note:
        return f"this order was sized differently from the alert ({record.note})"
    return _MANUAL
