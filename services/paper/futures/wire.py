"""Parameters of the ``/fapi`` requests, checked as Binance checks them."""

from __future__ import annotations

from decimal import Decimal

from services.paper import errors
from services.paper.futures import errors as ferrors
from services.paper.futures.engine import new_client_id
from services.paper.futures.models import (
    CONDITIONAL_TYPES,
    FuturesTif,
    FuturesType,
    MarginType,
    NewAlgoOrder,
    NewFuturesOrder,
)
from services.paper.models import Side
from services.paper.wire import (
    Params,
    client_id_param,
    decimal_param,
    int_param,
    required,
)

BOOL_RANGE = "true|false"


def bool_param(params: Params, name: str) -> bool:
    """Return a ``true``/``false`` parameter (absent: false)."""
    value = params.get(name, "").lower()
    if value in {"", "false"}:
        return False
    if value == "true":
        return True
    raise errors.illegal(name, BOOL_RANGE)


def _side(params: Params) -> Side:
    try:
        return Side(required(params, "side"))
    except ValueError:
        raise errors.invalid_side() from None


def _type(params: Params) -> FuturesType:
    try:
        return FuturesType(required(params, "type"))
    except ValueError:
        raise errors.invalid_order_type() from None


def _tif(params: Params) -> FuturesTif:
    try:
        return FuturesTif(params.get("timeInForce") or FuturesTif.GTC.value)
    except ValueError:
        raise errors.invalid_time_in_force() from None


def _one_way(params: Params) -> None:
    if params.get("positionSide", "BOTH") not in {"", "BOTH"}:
        raise ferrors.position_side_mismatch()


def parse_order(params: Params) -> NewFuturesOrder:
    """Validate ``POST /fapi/v1/order`` (MARKET or LIMIT; conditional types go to algoOrder)."""
    symbol = required(params, "symbol")
    side, kind = _side(params), _type(params)
    if kind in CONDITIONAL_TYPES:
        raise errors.invalid_order_type()
    _one_way(params)
    quantity = decimal_param(params, "quantity")
    if quantity is None:
        raise errors.mandatory("quantity")
    price = decimal_param(params, "price")
    if kind is FuturesType.LIMIT and price is None:
        raise errors.mandatory("price")
    if kind is FuturesType.LIMIT and "timeInForce" not in params:
        raise errors.mandatory("timeInForce")
    return NewFuturesOrder(
        symbol=symbol,
        side=side,
        type=kind,
        client_order_id=client_id_param(params, "newClientOrderId") or new_client_id(),
        quantity=quantity,
        price=price if kind is FuturesType.LIMIT else None,
        time_in_force=_tif(params),
        reduce_only=bool_param(params, "reduceOnly"),
    )


def parse_algo(params: Params) -> NewAlgoOrder:
    """Validate ``POST /fapi/v1/algoOrder`` (algoType CONDITIONAL)."""
    if required(params, "algoType") != "CONDITIONAL":
        raise ferrors.algo_type_invalid()
    symbol = required(params, "symbol")
    side, kind = _side(params), _type(params)
    if kind not in CONDITIONAL_TYPES:
        raise errors.invalid_order_type()
    _one_way(params)
    return NewAlgoOrder(
        symbol=symbol,
        side=side,
        type=kind,
        client_algo_id=client_id_param(params, "clientAlgoId") or new_client_id(),
        quantity=decimal_param(params, "quantity"),
        trigger_price=decimal_param(params, "triggerPrice"),
        price=decimal_param(params, "price"),
        time_in_force=_tif(params),
        reduce_only=bool_param(params, "reduceOnly"),
        close_position=bool_param(params, "closePosition"),
        callback_rate=decimal_param(params, "callbackRate"),
        activate_price=decimal_param(params, "activatePrice"),
    )


def order_ref(params: Params) -> tuple[int | None, str | None]:
    """Read ``orderId`` or ``origClientOrderId``; one of them is required."""
    order_id = int_param(params, "orderId")
    client_id = client_id_param(params, "origClientOrderId")
    if order_id is None and client_id is None:
        raise errors.mandatory("orderId")
    return order_id, client_id


def algo_ref(params: Params) -> tuple[int | None, str | None]:
    """Read ``algoId`` or ``clientAlgoId``; one of them is required."""
    algo_id = int_param(params, "algoId")
    client_id = client_id_param(params, "clientAlgoId")
    if algo_id is None and client_id is None:
        raise errors.mandatory("algoId")
    return algo_id, client_id


def leverage(params: Params) -> int:
    """Read ``leverage`` (an integer)."""
    value = int_param(params, "leverage")
    if value is None:
        raise errors.mandatory("leverage")
    return value


def margin_type(params: Params) -> MarginType:
    """Read ``marginType`` (ISOLATED or CROSSED)."""
    value = required(params, "marginType").upper()
    try:
        return MarginType(value)
    except ValueError:
        raise errors.illegal("marginType", "ISOLATED|CROSSED") from None


def dual_side(params: Params) -> bool:
    """Read ``dualSidePosition`` (mandatory)."""
    required(params, "dualSidePosition")
    return bool_param(params, "dualSidePosition")


def optional_decimal(params: Params, name: str) -> Decimal | None:
    """Return an optional decimal parameter."""
    return decimal_param(params, name)
