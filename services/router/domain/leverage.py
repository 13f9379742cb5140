"""Leverage: what an opening order uses, within the plan's cap and the trader's own.

A futures opening order uses the alert's leverage, else the trade settings' ``leverage``. It
may not exceed the lower of the plan's ``max_leverage`` and the trade settings'
``max_leverage`` (refused as ``leverage_not_allowed``, naming the cap and where it comes from).
Asked for none while a cap is in force, the order carries the cap as ``max_leverage``: the
executor lowers the symbol's leverage on the exchange to it if it is above, and never raises it
(a trader's own lower setting stands); without a cap the exchange's setting applies. A spot order
is never leveraged: an alert asking a spot account for more than 1x is refused rather than
placed at 1x. Only opening orders are checked (closes carry no leverage).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import Alert, RejectReason
from libs.common.records import AccountRecord, MarketType, PlanLimits
from services.router.domain.decisions import refuse
from services.router.domain.trade_settings import EffectiveSettings


@dataclass(frozen=True, slots=True)
class Cap:
    """The highest leverage allowed, and in words where that limit comes from."""

    value: Decimal
    where: str
    remedy: str


def cap_of(
    plan: str, limits: PlanLimits, settings: EffectiveSettings, settings_scope: str
) -> Cap | None:
    """Return the lower of the plan's and the trade settings' caps (the plan's on a tie)."""
    caps = []
    if limits.max_leverage is not None:
        caps.append(Cap(Decimal(limits.max_leverage), f"your plan ({plan})", "upgrade your plan"))
    if settings.max_leverage is not None:
        where = f"max_leverage in your trade settings {settings_scope}"
        caps.append(Cap(settings.max_leverage, where, "raise max_leverage"))
    return min(caps, key=lambda cap: cap.value, default=None)


def order_leverage(
    alert: Alert, settings: EffectiveSettings, account: AccountRecord, cap: Cap | None
) -> Decimal | None:
    """Return the leverage an opening order on ``account`` carries, or raise `Refused`."""
    if account.market_type is MarketType.SPOT:
        _check_spot(alert, account)
        return None
    asked, source = alert.leverage, "asked in the alert"
    if asked is None:
        asked, source = settings.leverage, "from your trade settings (leverage)"
    if asked is None:
        return None
    if cap is not None and asked > cap.value:
        raise refuse(
            RejectReason.LEVERAGE_NOT_ALLOWED,
            f"Leverage {asked.normalize():f}x ({source}) is above the cap of "
            f"{cap.value.normalize():f}x set by {cap.where}; the order was not placed. Use "
            f"{cap.value.normalize():f}x or less, or {cap.remedy}.",
        )
    return asked


def _check_spot(alert: Alert, account: AccountRecord) -> None:
    leverage = alert.leverage
    if leverage is None or leverage == 1:
        return
    raise refuse(
        RejectReason.UNSUPPORTED_ORDER,
        f"Leverage {leverage.normalize():f}x needs a futures account, and account "
        f"{account.label!r} trades spot; the order was not placed. Remove leverage from the "
        "alert (or send 1).",
    )
