"""The checks a decision runs; each returns quietly or raises `Refused` with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from libs.common.messages import AccountMode, Instrument, RejectReason, SizingRule
from libs.common.records import AccountRecord, AccountStatus, MarketType, PlanLimits
from services.router.domain.decisions import Positions, QuotaLimits, QuotaState, refuse
from services.router.domain.legs import Leg
from services.router.domain.symbols import (
    SymbolError,
    is_contract,
    listed,
    names_of,
    unified_symbol,
)
from services.router.domain.trade_settings import EffectiveSettings, TradingWindow

_SHOWN = 5


def account_for(
    label: str | None, accounts: Mapping[str, AccountRecord], instrument: Instrument
) -> AccountRecord:
    """Return the account the alert trades on: named, the default, the only one, or the only
    one of the ticker's market type (a perpetual: futures; else spot)."""
    if label is None:
        if len(accounts) == 1:
            return next(iter(accounts.values()))
        market = MarketType.FUTURES if is_contract(instrument) else MarketType.SPOT
        fitting = [record for record in accounts.values() if record.market_type is market]
        if len(fitting) != 1:
            raise refuse(RejectReason.UNKNOWN_ACCOUNT, _which_account(accounts))
        label = fitting[0].label  # still checked below: its keys may have failed
    record = accounts.get(label)
    if record is None:
        raise refuse(
            RejectReason.UNKNOWN_ACCOUNT,
            f"No exchange account is named {label!r}.{_yours(accounts)}",
        )
    if record.status is AccountStatus.INVALID:
        raise refuse(
            RejectReason.UNKNOWN_ACCOUNT,
            f"The API keys of exchange account {label!r} failed validation; update them.",
        )
    return record


def check_account_limit(
    account: AccountRecord, accounts: Mapping[str, AccountRecord], limits: PlanLimits
) -> None:
    """Refuse an opening order on an account beyond the plan's number of accounts."""
    usable = usable_accounts(accounts, limits.max_exchange_accounts)
    if account.label not in usable:
        raise refuse(
            RejectReason.ACCOUNT_LIMIT,
            f"Your plan allows {limits.max_exchange_accounts} exchange account(s) and "
            f"{account.label!r} is beyond that; trade with "
            f"{', '.join(map(repr, usable)) or 'none'} or upgrade your plan. Orders that "
            "only reduce a position are still placed.",
        )


def usable_accounts(accounts: Mapping[str, AccountRecord], limit: int | None) -> list[str]:
    """Return the labels a plan's account limit leaves usable: the first ones by label."""
    labels = sorted(accounts)
    return labels if limit is None else labels[:limit]


def _which_account(accounts: Mapping[str, AccountRecord]) -> str:
    if not accounts:
        return "You have no exchange account yet; add one before sending alerts."
    return (
        f"The alert names no account and you have {len(accounts)}; add "
        f'"account": "<label>" to the alert or set default_account in your trade settings.'
        f"{_yours(accounts)}"
    )


def _yours(accounts: Mapping[str, AccountRecord]) -> str:
    if not accounts:
        return " You have no exchange account yet."
    labels = sorted(accounts)
    more = "…" if len(labels) > _SHOWN else ""
    return f" Yours: {', '.join(labels[:_SHOWN])}{more}."


def check_live(account: AccountRecord, plan: str, limits: PlanLimits) -> None:
    """Refuse an opening order on a live account on a plan without live trading."""
    if account.mode is AccountMode.LIVE and not limits.live_trading:
        raise refuse(
            RejectReason.LIVE_TRADING_NOT_ALLOWED,
            f"Your plan ({plan}) allows paper and testnet trading only, and account "
            f"{account.label!r} is live; upgrade your plan to trade live. Orders that only "
            "reduce a position are still placed.",
        )


def check_fresh(signal_at: datetime, settings: EffectiveSettings, now: datetime) -> None:
    """Refuse an alert that fired longer ago than the trader allows (after an outage)."""
    limit = settings.max_signal_age_s
    age = (now - signal_at).total_seconds()
    if not limit or age <= limit:
        return
    raise refuse(
        RejectReason.STALE_SIGNAL,
        f"The alert fired at {signal_at:%Y-%m-%d %H:%M:%S} UTC and was routed at "
        f"{now:%H:%M:%S} UTC, {age:.0f} s later, past your limit of {limit} s "
        "(max_signal_age_s in your trade settings); no order was placed. If your alert's "
        "time field is {{time}} (the bar's open), use {{timenow}}.",
    )


def symbol_for(instrument: Instrument, market: MarketType, settings: EffectiveSettings) -> str:
    """Return the ccxt symbol, or refuse a ticker that cannot be traded on this account."""
    try:
        return unified_symbol(instrument, market, settings.ccxt_symbol)
    except SymbolError as exc:
        message = str(exc)
        raise refuse(RejectReason.UNKNOWN_SYMBOL, message[0].upper() + message[1:] + ".") from exc


def check_listed(instrument: Instrument, unified: str, settings: EffectiveSettings) -> None:
    """Refuse a symbol outside the allowlist or on the blocklist."""
    names = names_of(instrument, unified)
    if settings.allowed_symbols is not None and not listed(settings.allowed_symbols, names):
        raise refuse(
            RejectReason.SYMBOL_NOT_ALLOWED,
            f"{instrument.raw} is not in your allowed symbols "
            f"({', '.join(settings.allowed_symbols[:_SHOWN])}).",
        )
    if listed(settings.blocked_symbols, names):
        raise refuse(
            RejectReason.SYMBOL_NOT_ALLOWED, f"{instrument.raw} is in your blocked symbols."
        )


def check_window(settings: EffectiveSettings, now: datetime) -> None:
    """Refuse an opening order outside every trading window."""
    windows = settings.trading_windows
    if windows is None or any(window.contains(now) for window in windows):
        return
    described = "; ".join(describe(window) for window in windows[:_SHOWN])
    raise refuse(
        RejectReason.OUTSIDE_TRADING_WINDOW,
        f"It is {now:%a %H:%M} UTC, outside your trading windows ({described}). "
        "Closing orders are let through at any time.",
    )


def describe(window: TradingWindow) -> str:
    """Return ``mon,tue 08:00-20:00 UTC``."""
    days = ",".join(day.value for day in window.days)
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M} UTC"


def check_caps(
    legs: tuple[Leg, ...], price: Decimal | None, symbol: str, s: EffectiveSettings
) -> None:
    """Refuse an opening leg above the maximum order size (base or quote)."""
    base, _, rest = symbol.partition("/")
    quote = rest.split(":")[0]
    for leg in legs:
        if not leg.opening:
            continue
        rule, value = leg.sizing.rule, abs(leg.sizing.value)
        amount = value if rule in (SizingRule.BASE, SizingRule.TARGET_POSITION) else None
        notional = value if rule is SizingRule.QUOTE else None
        if price is not None and amount is not None:
            notional = amount * price
        elif price is not None and notional is not None:
            amount = notional / price
        _cap(amount, s.max_order_base, base)
        _cap(notional, s.max_order_quote, quote)


def _cap(value: Decimal | None, cap: Decimal | None, unit: str) -> None:
    if value is not None and cap is not None and value > cap:
        raise refuse(
            RejectReason.MAX_ORDER_SIZE,
            f"An order of {value.normalize():f} {unit} is above your maximum order size "
            f"of {cap.normalize():f} {unit}.",
        )


def check_open_positions(
    settings: EffectiveSettings, positions: Positions, account: AccountRecord, symbol: str
) -> None:
    """Refuse a new position when the account already holds its maximum."""
    limit = settings.max_open_positions
    if limit is None:
        return
    spot = account.market_type is MarketType.SPOT
    held = sum(
        1
        for (label, other), amount in positions.items()
        if label == account.label and other != symbol and (amount > 0 if spot else amount != 0)
    )
    if held >= limit:
        raise refuse(
            RejectReason.MAX_OPEN_POSITIONS,
            f"Account {account.label!r} already holds {held} open position(s), your maximum "
            f"of {limit}; close one first.",
        )


def check_alert_quota(limits: QuotaLimits, quota: QuotaState) -> None:
    """Refuse an alert beyond the plan's alerts per (UTC clock) hour."""
    limit = limits.alerts_per_hour
    if quota.already_counted or limit is None or quota.alerts_this_hour < limit:
        return
    raise refuse(RejectReason.QUOTA_EXCEEDED, alerts_quota_message(limit))


def alerts_quota_message(limit: int) -> str:
    """Say that the hourly alert quota is used up."""
    return (
        f"You reached your plan's limit of {limit} alerts per hour; it resets at the top of "
        "the hour (UTC)."
    )


def check_order_quota(
    limits: QuotaLimits, quota: QuotaState, orders: int, plan: int | None
) -> None:
    """Refuse orders beyond the day's limit (the plan's or the trader's own, the lower)."""
    limit = limits.orders_per_day
    if quota.already_counted or limit is None or quota.orders_today + orders <= limit:
        return
    raise refuse(RejectReason.QUOTA_EXCEEDED, orders_quota_message(limit, plan))


def orders_quota_message(limit: int, plan: int | None) -> str:
    """Say that the daily order quota (the plan's, or the trader's own if lower) is used up."""
    whose = "your plan's" if limit == plan else "your trade settings'"
    return f"You reached {whose} limit of {limit} orders per day; it resets at midnight UTC."
