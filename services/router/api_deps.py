"""What every settings route depends on: the runtime, path parameters, ``If-Match``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request

from services.router.runtime import RouterRuntime
from services.router.trade_settings import SYMBOL_PATTERN


def runtime_of(request: Request) -> RouterRuntime:
    """Return the router runtime the app started."""
    runtime: RouterRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[RouterRuntime, Depends(runtime_of)]
AccountLabel = Annotated[str, Path(min_length=1, max_length=64)]
SymbolName = Annotated[str, Path(pattern=SYMBOL_PATTERN)]


def expected_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """Return the layer version an ``If-Match`` header expects (optimistic concurrency)."""
    if if_match is None:
        return None
    value = if_match.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise HTTPException(400, 'If-Match must be a settings version, such as "3".')
    return int(value)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
