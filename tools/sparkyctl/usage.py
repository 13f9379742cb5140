"""``sparkyctl usage …``: alerts and orders counted per tenant and UTC day or month."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tools.sparkyctl.client import api_of

usage_app = typer.Typer(help="Usage per tenant and UTC day or month.")


@usage_app.command("list")
def usage_list(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="One tenant; default: everyone.")] = None,
    period: Annotated[str, typer.Option(help="day or month.")] = "day",
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
) -> None:
    """Print alerts accepted and rejected, orders placed and filled."""
    api = api_of(ctx)
    params = {"period": period, "from": start, "to": end, "tenant_id": tenant}
    query = {k: v for k, v in params.items() if v is not None}
    answer: Any = api.call("GET", "/api/v1/tenants/usage", params=query)
    metrics = ["alerts_accepted", "alerts_rejected", "orders_placed", "orders_filled"]
    rows = [[u["tenant_id"], u["period_start"], *(u[m] for m in metrics)] for u in answer]
    header = ["TENANT", period.upper(), "ACCEPTED", "REJECTED", "PLACED", "FILLED"]
    api.table(answer, rows, header)
