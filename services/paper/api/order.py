"""``/api/v3/order`` served by a plain Starlette route: the hottest path, without FastAPI's
dependency layers.

FastAPI solves each request's dependencies (the fault gate, the signed-request check, the
exchange) through its generic machinery before the endpoint runs; here the same functions are
called in order, by hand. The endpoints and error handlers are the FastAPI routes' own, so the
answers are the same bytes (status, headers, body); the FastAPI routes stay registered behind
this one, so the OpenAPI document still describes the path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.paper.api import spot as api
from services.paper.api.deps import Caller, exchange_of, fault_gate, signed
from services.paper.exchange import PaperExchange

PATH = "/api/v3/order"
Handler = Callable[[Request, Caller, PaperExchange], Awaitable[Response]]

_BY_METHOD: dict[str, Handler] = {
    "POST": api.new_order,
    "GET": lambda _, caller, exchange: api.get_order(caller, exchange),
    "DELETE": lambda _, caller, exchange: api.cancel_order(caller, exchange),
}


async def order(request: Request) -> Response:
    """Check the faults and the signature, then place, look up or cancel the order."""
    await fault_gate(request)
    caller = await signed(request)
    return await _BY_METHOD[request.method](request, caller, exchange_of(request))


def plain_order_route() -> Route:
    """Return the route to put in front of the FastAPI ones (not in the OpenAPI document)."""
    return Route(PATH, order, methods=list(_BY_METHOD), include_in_schema=False)
