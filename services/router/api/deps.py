"""What every settings route depends on: the runtime, path parameters, ``If-Match``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from libs.common.messages.types import Text
from services.router.domain.trade_settings import SYMBOL_PATTERN
from services.router.runtime import RouterRuntime

# A settings version, as ETag-like text: 3, "3" or W/"3".
IF_MATCH_PATTERN = r'^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$'


def runtime_of(request: Request) -> RouterRuntime:
    """Return the router runtime the app started."""
    runtime: RouterRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[RouterRuntime, Depends(runtime_of)]
AccountLabel = Annotated[Text, Path(min_length=1, max_length=64)]
SymbolName = Annotated[str, Path(pattern=SYMBOL_PATTERN)]
AccountQuery = Annotated[Text | None, Query(min_length=1, max_length=64)]
SymbolQuery = Annotated[str | None, Query(pattern=SYMBOL_PATTERN)]


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            pattern=IF_MATCH_PATTERN,
            description='Change only if the layer is at this version: 3, "3" or W/"3" (else 412).',
        ),
    ] = None,
) -> int | None:
    """Return the layer version an ``If-Match`` header expects (optimistic concurrency)."""
    if if_match is None:
        return None
    return int(if_match.removeprefix("W/").strip('"'))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
