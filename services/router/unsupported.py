"""Orders Sparky cannot place as asked yet: refused in words, never placed without the part.

A trader who sends ``tp=2% sl=1%`` expects a protected entry; placing the entry without its
exits would be worse than placing nothing. Likewise leverage on a spot account: a spot order is
never leveraged, so an alert asking for 5x is refused rather than quietly placed at 1x. Only
opening orders are checked: closing orders carry no exits or leverage, and must never be
stopped (a refusal must not trap a trader in a position).
"""

from __future__ import annotations

from libs.common.messages import Alert, RejectReason
from libs.common.records import AccountRecord, MarketType
from services.router.decisions import refuse
from services.router.trade_settings import EffectiveSettings


def check_opening_order(alert: Alert, settings: EffectiveSettings, account: AccountRecord) -> None:
    """Refuse an opening order that asks for exits, or for leverage on a spot account."""
    check_exits(alert, settings)
    check_leverage(alert, account)


def check_exits(alert: Alert, settings: EffectiveSettings) -> None:
    """Refuse take-profit and stop-loss, from the alert or the trade settings."""
    given = (("tp", alert.take_profit), ("sl", alert.stop_loss))
    in_alert = [name for name, value in given if value is not None]
    in_settings = [
        name
        for name in ("take_profit_percent", "stop_loss_percent")
        if getattr(settings, name) is not None
    ]
    places = []
    if in_alert:
        places.append(f"{' and '.join(in_alert)} from the alert")
    if in_settings:
        places.append(f"{' and '.join(in_settings)} from your trade settings")
    if places:
        raise refuse(
            RejectReason.UNSUPPORTED_ORDER,
            "Take-profit and stop-loss orders are not supported yet; the order was not "
            f"placed. Remove {', and '.join(places)}.",
        )


def check_leverage(alert: Alert, account: AccountRecord) -> None:
    """Refuse leverage other than 1x on a spot account, where no order is ever leveraged."""
    leverage = alert.leverage
    if account.market_type is not MarketType.SPOT or leverage is None or leverage == 1:
        return
    raise refuse(
        RejectReason.UNSUPPORTED_ORDER,
        f"Leverage {leverage.normalize():f}x needs a futures account, and account "
        f"{account.label!r} trades spot; the order was not placed. Remove leverage from the "
        "alert (or send 1).",
    )
