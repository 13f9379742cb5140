"""Binance's USDⓈ-M futures refusals, in its words (ccxt maps them by code or message).

ccxt's ``binanceusdm`` chooses the class by the URL's host for futures-only codes (-2019,
-2021, -2022...): with the paper exchange's URLs, the recipe adds Binance's linear map (see
docs/paper.md), so ccxt raises what it raises against Binance.
"""

from __future__ import annotations

from services.paper.errors import BinanceError


def margin_insufficient() -> BinanceError:
    """Answer an order whose initial margin does not fit the available balance."""
    return BinanceError(-2019, "Margin is insufficient.")


def would_trigger() -> BinanceError:
    """Answer a conditional order whose trigger is already passed."""
    return BinanceError(-2021, "Order would immediately trigger.")


def reduce_only_rejected() -> BinanceError:
    """Answer a reduce-only order that would open, add to or flip a position."""
    return BinanceError(-2022, "ReduceOnly Order is rejected.")


def invalid_leverage(leverage: int) -> BinanceError:
    """Answer a leverage the symbol does not allow."""
    return BinanceError(-4028, f"Leverage {leverage} is not valid")


def margin_type_unchanged() -> BinanceError:
    """Answer a margin type change to the type already set (ccxt: MarginModeAlreadySet)."""
    return BinanceError(-4046, "No need to change margin type.")


def margin_type_with_position() -> BinanceError:
    """Answer a margin type change while the symbol holds a position or open orders."""
    return BinanceError(-4048, "Margin type cannot be changed if there exists position.")


def position_side_unchanged() -> BinanceError:
    """Answer a position mode change to the mode already set."""
    return BinanceError(-4059, "No need to change position side.")


def hedge_mode_refused() -> BinanceError:
    """Answer a switch to hedge mode: the paper exchange trades one-way mode only."""
    return BinanceError(-4068, "Position side cannot be changed if there exists position.")


def position_side_mismatch() -> BinanceError:
    """Answer an order for a LONG or SHORT position side in one-way mode."""
    return BinanceError(-4061, "Order's position side does not match user's setting.")


def callback_rate_invalid() -> BinanceError:
    """Answer a trailing callback rate outside 0.1-10 (%)."""
    return BinanceError(-1130, "Data sent for parameter 'callbackRate' is not valid.")


def close_position_conflict() -> BinanceError:
    """Answer closePosition sent with a quantity or reduceOnly."""
    return BinanceError(-4136, "Target strategy invalid for orderType, closePosition true")


def post_only_rejected() -> BinanceError:
    """Answer a GTX (post-only) order that would take liquidity."""
    return BinanceError(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )


def min_notional(minimum: str) -> BinanceError:
    """Answer an order worth less than the symbol's minimum (reduce-only orders are exempt)."""
    return BinanceError(
        -4164,
        f"Order's notional must be no smaller than {minimum} (unless you choose reduce only).",
    )


def algo_type_invalid() -> BinanceError:
    """Answer an algoType other than CONDITIONAL."""
    return BinanceError(-1116, "Invalid orderType.")


def not_required(name: str) -> BinanceError:
    """Answer a parameter sent with one that excludes it (quantity with closePosition)."""
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")
