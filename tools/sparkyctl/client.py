"""The operator CLI's connection to billing's API, and how answers are printed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import httpx
import typer

from libs.common.ids import new_id

DEFAULT_URL = "http://127.0.0.1:8101"
TIMEOUT_S = 15.0

Json = object

AllowIp = Annotated[
    list[str] | None,
    typer.Option("--allow-ip", help='CIDR, IP or "tradingview"; repeat for several.'),
]
Grace = Annotated[
    int, typer.Option("--grace", help="Seconds the old secret keeps working (default 0).")
]


@dataclass(frozen=True, slots=True)
class BillingApi:
    """Billing's HTTP API, called with the operator token."""

    url: str
    token: str
    as_json: bool = False

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Json:
        """Send one request; print the error and exit non-zero if it fails."""
        if not self.token:
            fail("Set SPARKY_OPERATOR_TOKEN to your operator token (sop_…).", code=2)
        request_id = new_id()  # the audit log's entry for this call carries it
        headers = {"Authorization": f"Bearer {self.token}", "X-Request-ID": request_id}
        try:
            response = httpx.request(
                method,
                self.url.rstrip("/") + path,
                json=body,
                params=params,
                headers=headers,
                timeout=TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            fail(f"Cannot reach billing at {self.url}: {type(exc).__name__}.", code=2)
        if response.status_code >= 400:
            fail(f"{response.status_code}: {_detail(response)} (request {request_id})")
        return response.json() if response.content else None

    def show(self, answer: Json, lines: list[tuple[str, object]]) -> None:
        """Print ``lines`` as ``name: value``, or the whole answer with ``--json``."""
        if self.as_json:
            typer.echo(json.dumps(answer, indent=2))
            return
        width = max((len(name) for name, _ in lines), default=0) + 1
        for name, value in lines:
            typer.echo(f"{name + ':':<{width}} {'-' if value is None else value}")

    def table(self, answer: Json, rows: list[list[object]], header: list[str]) -> None:
        """Print ``rows`` under ``header`` in columns, or the whole answer with ``--json``."""
        if self.as_json:
            typer.echo(json.dumps(answer, indent=2))
            return
        cells = [header, *[["-" if c is None else str(c) for c in row] for row in rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        for row in cells:
            typer.echo(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )


def _detail(response: httpx.Response) -> str:
    """The sentence of an error answer (``{"error": …, "errors": […]}``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return response.text or response.reason_phrase
    return str(body["error"])


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def api_of(ctx: typer.Context) -> BillingApi:
    """Return the API client the ``sparkyctl`` callback built."""
    api: BillingApi = ctx.obj
    return api


def tenant_lines(t: dict[str, Any]) -> list[tuple[str, object]]:
    """Return the lines that describe a tenant."""
    return [
        ("tenant_id", t["tenant_id"]),
        ("name", t["name"]),
        ("status", t["status"]),
        ("plan", t["plan"]),
        ("plan_in_force", t["plan_in_force"]),
        ("payment", t["payment_state"]),
    ]
