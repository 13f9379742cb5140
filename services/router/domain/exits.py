"""Take-profit and stop-loss: which an entry carries, and which the router refuses.

An opening order carries the alert's ``take_profit`` / ``stop_loss``, else the trade settings'
``take_profit_percent`` / ``stop_loss_percent``; the executor places them once the entry has
filled. Refused in words rather than placed without them (an entry the trader meant to protect
must not go out unprotected):

- exits on an alert that opens nothing to protect: a close (ingress refuses it too) or a spot
  sell (spot holds no short) — ``invalid_exit``;
- an exit the venue cannot hold on this market (`EXIT_SUPPORT`) — ``unsupported_order``;
- an exit price on the wrong side of a limit entry's price (long: take-profit above, stop-loss
  below; short: the reverse), or a take-profit beyond the stop-loss — ``invalid_exit``.

A buy or sell whose legs only close (opposite signal ``close_only``, a target position that
reduces) carries no exits and is not refused: there is no new position to protect, and a
refusal must never trap a trader in a position.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import (
    Action,
    Alert,
    ExitKind,
    PriceTarget,
    PriceUnit,
    RejectReason,
    Side,
)
from libs.common.records import AccountRecord, MarketType
from services.router.domain.decisions import refuse
from services.router.domain.legs import Leg
from services.router.domain.trade_settings import EffectiveSettings

_ALL = frozenset(ExitKind)
_MARKET_LIMIT = frozenset({ExitKind.MARKET, ExitKind.LIMIT})


@dataclass(frozen=True, slots=True)
class ExitSupport:
    """The kinds of take-profit and stop-loss one venue holds on one market."""

    take_profit: frozenset[ExitKind]
    stop_loss: frozenset[ExitKind]
    described: str


EXIT_SUPPORT: dict[tuple[str, MarketType], ExitSupport] = {
    # Binance spot: an OCO sell, a take-profit limit and a stop-market or stop-limit.
    ("binance", MarketType.SPOT): ExitSupport(
        frozenset({ExitKind.MARKET}),
        _MARKET_LIMIT,
        "a take-profit limit and a stop or stop-limit (an OCO), no trailing stop",
    ),
    ("binance", MarketType.FUTURES): ExitSupport(_ALL, _ALL, "every kind"),
    ("okx", MarketType.FUTURES): ExitSupport(
        _MARKET_LIMIT, _MARKET_LIMIT, "market and limit exits, no trailing stop"
    ),
}
"""What the router lets through, by (ccxt exchange id, market). The executor keeps its own
table of how each is placed (`services.executor`), and refuses what it cannot place."""

_CLOSES = frozenset({Action.CLOSE, Action.CLOSE_LONG, Action.CLOSE_SHORT})
_KIND_WORDS = {
    ExitKind.MARKET: "market",
    ExitKind.LIMIT: "stop-limit",
    ExitKind.TRAILING: "trailing",
}


@dataclass(frozen=True, slots=True)
class Exits:
    """The exits an opening order carries, and where each came from (for the messages)."""

    take_profit: PriceTarget | None
    stop_loss: PriceTarget | None
    sources: tuple[str, ...]

    @property
    def any(self) -> bool:
        return self.take_profit is not None or self.stop_loss is not None


def exits_of(alert: Alert, settings: EffectiveSettings) -> Exits:
    """Return the alert's exits, each else the trade settings' percentage."""
    tp = _pick(alert.take_profit, settings.take_profit_percent)
    sl = _pick(alert.stop_loss, settings.stop_loss_percent)
    in_alert = [n for n, v in (("tp", alert.take_profit), ("sl", alert.stop_loss)) if v]
    in_settings = [
        name
        for name, given, default in (
            ("take_profit_percent", alert.take_profit, settings.take_profit_percent),
            ("stop_loss_percent", alert.stop_loss, settings.stop_loss_percent),
        )
        if given is None and default is not None
    ]
    sources = []
    if in_alert:
        sources.append(f"{' and '.join(in_alert)} from the alert")
    if in_settings:
        sources.append(f"{' and '.join(in_settings)} from your trade settings")
    return Exits(tp, sl, tuple(sources))


def _pick(given: PriceTarget | None, percent: Decimal | None) -> PriceTarget | None:
    if given is not None or percent is None:
        return given
    return PriceTarget(value=percent, unit=PriceUnit.PERCENT)


def check_exits(
    alert: Alert,
    exits: Exits,
    legs: tuple[Leg, ...],
    account: AccountRecord,
    entry_price: Decimal | None,
) -> None:
    """Refuse exits that nothing would hold, or that the venue or the entry price rule out."""
    if alert.take_profit is not None or alert.stop_loss is not None:
        _check_something_to_protect(alert, account)
    opening = next((leg for leg in legs if leg.opening), None)
    if opening is None or not exits.any:
        return
    _check_venue(exits, account)
    price = entry_price if opening.priced else None
    _check_sides(exits, opening.side, price)


def _check_something_to_protect(alert: Alert, account: AccountRecord) -> None:
    if alert.action in _CLOSES:
        raise refuse(
            RejectReason.INVALID_EXIT,
            f"A {alert.action.value} opens no position for a take-profit or stop-loss to "
            "protect; the order was not placed. Send it without tp and sl (the exits of the "
            "position are canceled when it closes).",
        )
    if account.market_type is MarketType.SPOT and alert.action is Action.SELL:
        raise refuse(
            RejectReason.INVALID_EXIT,
            f"A sell on a spot account sells what it holds and opens no short position for a "
            f"take-profit or stop-loss to protect; the order was not placed. Send the sell "
            f"without tp and sl, or trade shorts on a futures account (account "
            f"{account.label!r} trades spot).",
        )


def _check_venue(exits: Exits, account: AccountRecord) -> None:
    where = f"{account.exchange_id} {account.market_type.value}"
    support = EXIT_SUPPORT.get((account.exchange_id, account.market_type))
    if support is None:
        raise refuse(
            RejectReason.UNSUPPORTED_ORDER,
            f"Take-profit and stop-loss orders cannot be held on {where} accounts, so the "
            f"order was not placed (account {account.label!r}). Remove "
            f"{', and '.join(exits.sources)}.",
        )
    for name, target, kinds in (
        ("take-profit", exits.take_profit, support.take_profit),
        ("stop-loss", exits.stop_loss, support.stop_loss),
    ):
        if target is not None and target.kind not in kinds:
            raise refuse(
                RejectReason.UNSUPPORTED_ORDER,
                f"A {_KIND_WORDS[target.kind]} {name} cannot be placed on {where} (it holds "
                f"{support.described}); the order was not placed.",
            )


def _check_sides(exits: Exits, side: Side, entry: Decimal | None) -> None:
    tp, sl = _price(exits.take_profit), _price(exits.stop_loss)
    long = side is Side.BUY
    above, below = ("above", "below") if long else ("below", "above")
    position = "long" if long else "short"
    if entry is not None:
        for name, price, wanted in (("take-profit", tp, above), ("stop-loss", sl, below)):
            if price is not None and not _beyond(price, entry, above=wanted == "above"):
                raise refuse(
                    RejectReason.INVALID_EXIT,
                    f"The {name} at {price.normalize():f} must be {wanted} the entry price "
                    f"{entry.normalize():f} for a {position}; the order was not placed.",
                )
    if tp is not None and sl is not None and not _beyond(tp, sl, above=long):
        raise refuse(
            RejectReason.INVALID_EXIT,
            f"The take-profit at {tp.normalize():f} must be {above} the stop-loss at "
            f"{sl.normalize():f} for a {position}; the order was not placed.",
        )


def _beyond(price: Decimal, reference: Decimal, *, above: bool) -> bool:
    return price > reference if above else price < reference


def _price(target: PriceTarget | None) -> Decimal | None:
    return target.value if target is not None and target.unit is PriceUnit.PRICE else None
