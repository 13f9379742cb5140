"""Binance's wire format: request parameters in, JSON answers out.

Parameters arrive as strings, in the query string or a form body (ccxt sends private POSTs as
``application/x-www-form-urlencoded``). Every malformed value is answered with Binance's own
code and wording, so a client learns which parameter was wrong.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from services.paper import errors
from services.paper.models import (
    NewOco,
    NewOrder,
    OcoLeg,
    OrderRef,
    OrderType,
    RespType,
    Side,
    TimeInForce,
)

Params = Mapping[str, str]

DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
ID_RANGE = r"^[0-9]{1,20}$"
CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
MAX_INT64 = 2**63 - 1
_DECIMAL = re.compile(DECIMAL_RANGE)
_ID = re.compile(ID_RANGE)
_CLIENT_ID = re.compile(CLIENT_ID_RANGE)
_ALPHABET = string.ascii_letters + string.digits


def new_client_order_id() -> str:
    """Return a client order id for an order sent without one (22 characters, like Binance)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


def required(params: Params, name: str) -> str:
    """Return parameter ``name``, or raise Binance's "mandatory parameter" error."""
    value = params.get(name, "")
    if not value:
        raise errors.mandatory(name)
    return value


def decimal_param(params: Params, name: str) -> Decimal | None:
    """Return ``name`` as a Decimal, None when absent; refuse anything but plain digits."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _DECIMAL.match(value):
        raise errors.illegal(name, DECIMAL_RANGE)
    return Decimal(value)


def int_param(params: Params, name: str) -> int | None:
    """Return ``name`` as a non-negative integer, None when absent."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _ID.match(value) or int(value) > MAX_INT64:  # SQLite's integers are 64-bit
        raise errors.illegal(name, ID_RANGE)
    return int(value)


def client_id_param(params: Params, name: str) -> str | None:
    """Return a client order id parameter, checked against Binance's legal range."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _CLIENT_ID.match(value):
        raise errors.illegal(name, CLIENT_ID_RANGE)
    return value


E = TypeVar("E", Side, OrderType, TimeInForce, RespType)


def _enum(kind: type[E], value: str, error: errors.BinanceError) -> E:
    try:
        return kind(value)
    except ValueError:
        raise error from None


def _amounts(params: Params, kind: OrderType) -> tuple[Decimal | None, Decimal | None]:
    quantity = decimal_param(params, "quantity")
    quote_qty = decimal_param(params, "quoteOrderQty")
    if quantity is not None and quote_qty is not None:
        raise errors.invalid_combination()
    if quantity is None and (quote_qty is None or kind is not OrderType.MARKET):
        raise errors.mandatory("quantity")
    return quantity, quote_qty


_TIF_REQUIRED = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})


def _time_in_force(params: Params, kind: OrderType, name: str = "timeInForce") -> TimeInForce:
    if kind not in _TIF_REQUIRED:
        return TimeInForce.GTC  # LIMIT_MAKER works until canceled; the others trade at once
    return _enum(TimeInForce, required(params, name), errors.invalid_time_in_force())


def _limit_price(params: Params, kind: OrderType, name: str = "price") -> Decimal | None:
    price = decimal_param(params, name)
    if kind.has_limit_price and price is None:
        raise errors.mandatory(name)
    return price if kind.has_limit_price else None


def _stop_price(params: Params, kind: OrderType, name: str = "stopPrice") -> Decimal | None:
    stop = decimal_param(params, name)
    if kind.is_conditional and stop is None:
        raise errors.mandatory(name)
    return stop if kind.is_conditional else None


def _resp_type(params: Params) -> RespType:
    resp = params.get("newOrderRespType") or RespType.FULL.value
    return _enum(RespType, resp, errors.illegal("newOrderRespType", "ACK|RESULT|FULL"))


def parse_new_order(params: Params) -> NewOrder:
    """Validate the parameters of ``POST /api/v3/order``."""
    symbol = required(params, "symbol")
    side = _enum(Side, required(params, "side"), errors.invalid_side())
    kind = _enum(OrderType, required(params, "type"), errors.invalid_order_type())
    quantity, quote_qty = _amounts(params, kind)
    return NewOrder(
        symbol=symbol,
        side=side,
        type=kind,
        client_order_id=client_id_param(params, "newClientOrderId") or new_client_order_id(),
        resp_type=_resp_type(params),
        quantity=quantity,
        quote_qty=quote_qty,
        price=_limit_price(params, kind),
        time_in_force=_time_in_force(params, kind),
        stop_price=_stop_price(params, kind),
    )


def _oco_leg(params: Params, prefix: str) -> OcoLeg:
    kind = _enum(OrderType, required(params, f"{prefix}Type"), errors.oco_type_rejected())
    if not (kind.is_conditional or kind is OrderType.LIMIT_MAKER):
        raise errors.oco_type_rejected()
    return OcoLeg(
        type=kind,
        client_order_id=client_id_param(params, f"{prefix}ClientOrderId") or new_client_order_id(),
        price=_limit_price(params, kind, f"{prefix}Price"),
        stop_price=_stop_price(params, kind, f"{prefix}StopPrice"),
        time_in_force=_time_in_force(params, kind, f"{prefix}TimeInForce"),
    )


def parse_new_oco(params: Params) -> NewOco:
    """Validate the parameters of ``POST /api/v3/orderList/oco``."""
    symbol = required(params, "symbol")
    side = _enum(Side, required(params, "side"), errors.invalid_side())
    quantity = decimal_param(params, "quantity")
    if quantity is None:
        raise errors.mandatory("quantity")
    return NewOco(
        symbol=symbol,
        side=side,
        quantity=quantity,
        list_client_order_id=client_id_param(params, "listClientOrderId") or new_client_order_id(),
        above=_oco_leg(params, "above"),
        below=_oco_leg(params, "below"),
        resp_type=_resp_type(params),
    )


def parse_list_ref(params: Params, client_id_name: str) -> tuple[int | None, str | None]:
    """Read ``orderListId`` or the list's client id (named ``client_id_name``); one is needed."""
    list_id = int_param(params, "orderListId")
    client_id = client_id_param(params, client_id_name)
    if list_id is None and client_id is None:
        raise errors.mandatory("orderListId")
    return list_id, client_id


def parse_order_ref(params: Params) -> OrderRef:
    """Read ``orderId`` or ``origClientOrderId``; one of them is required."""
    ref = OrderRef(
        order_id=int_param(params, "orderId"),
        client_order_id=client_id_param(params, "origClientOrderId"),
    )
    if ref.order_id is None and ref.client_order_id is None:
        raise errors.mandatory("orderId")
    return ref
