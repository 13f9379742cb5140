"""``sparkyctl tenant …`` and ``sparkyctl plan …``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tools.sparkyctl.client import AllowIp, api_of, fail, tenant_lines

tenant_app = typer.Typer(help="Create, show, suspend, resume and delete tenants.")
plan_app = typer.Typer(help="Plans and a tenant's plan.")


@tenant_app.command("create")
def tenant_create(
    ctx: typer.Context,
    name: str,
    plan: Annotated[str | None, typer.Option(help="Defaults to billing's default plan.")] = None,
    label: Annotated[str, typer.Option(help="The first webhook's label.")] = "default",
    allow_ip: AllowIp = None,
) -> None:
    """Create a tenant; print its webhook URL and API key (shown this once)."""
    api = api_of(ctx)
    webhook = {"label": label, "allowed_ips": allow_ip or []}
    body = {"name": name, "plan": plan, "webhook": webhook}
    answer: Any = api.call("POST", "/api/v1/tenants", body=body)
    api.show(
        answer,
        [
            *tenant_lines(answer["tenant"]),
            ("webhook_id", answer["webhook"]["webhook"]["webhook_id"]),
            ("webhook_url", answer["webhook"]["url"]),
            ("api_key", answer["api_key"]["key"]),
            ("note", "the webhook URL and API key are shown this once: store them now"),
        ],
    )


@tenant_app.command("list")
def tenant_list(
    ctx: typer.Context,
    include_deleted: Annotated[bool, typer.Option("--all", help="Deleted ones too.")] = False,  # noqa: FBT002
) -> None:
    """List tenants."""
    api = api_of(ctx)
    params = {"include_deleted": str(include_deleted).lower(), "limit": "500"}
    answer: Any = api.call("GET", "/api/v1/tenants", params=params)
    rows = [
        [t["tenant_id"], t["status"], t["plan_in_force"], t["payment_state"], t["name"]]
        for t in answer["tenants"]
    ]
    api.table(answer, rows, ["TENANT", "STATUS", "PLAN", "PAYMENT", "NAME"])


@tenant_app.command("show")
def tenant_show(ctx: typer.Context, tenant_id: str) -> None:
    """Show a tenant, its plan and the limits in force."""
    api = api_of(ctx)
    answer: Any = api.call("GET", f"/api/v1/tenants/{tenant_id}")
    limits = [(f"limits.{k}", "unlimited" if v is None else v) for k, v in answer["limits"].items()]
    api.show(answer, [*tenant_lines(answer), *limits])


def _lifecycle(ctx: typer.Context, tenant_id: str, action: str) -> None:
    api = api_of(ctx)
    answer: Any = api.call("POST", f"/api/v1/tenants/{tenant_id}/{action}")
    api.show(answer, tenant_lines(answer))


@tenant_app.command("suspend")
def tenant_suspend(ctx: typer.Context, tenant_id: str) -> None:
    """Suspend a tenant: its webhooks and API keys answer 403 within 2 seconds."""
    _lifecycle(ctx, tenant_id, "suspend")


@tenant_app.command("resume")
def tenant_resume(ctx: typer.Context, tenant_id: str) -> None:
    """Let a suspended tenant trade again."""
    _lifecycle(ctx, tenant_id, "resume")


@tenant_app.command("delete")
def tenant_delete(
    ctx: typer.Context,
    tenant_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,  # noqa: FBT002
) -> None:
    """Delete a tenant: its webhooks and API keys stop working for good."""
    if not yes:
        typer.confirm(f"Delete tenant {tenant_id}? Its webhooks and keys stop for good", abort=True)
    api_of(ctx).call("DELETE", f"/api/v1/tenants/{tenant_id}")
    typer.echo(f"deleted {tenant_id}")


def _limit(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep:
        fail(f"--limit takes name=value (max_webhooks=20, max_webhooks=unlimited); got {text!r}")
    if value.lower() in ("true", "false"):
        return name, value.lower() == "true"
    if value.lower() in ("unlimited", "none", "null"):
        return name, None
    if not value.isdigit():
        fail(f"{name}: use a whole number, 'unlimited', 'true' or 'false'; got {value!r}")
    return name, int(value)


@plan_app.command("set")
def plan_set(
    ctx: typer.Context,
    tenant_id: str,
    plan: str,
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", help="Override one limit: name=value (unlimited, true, 20)."),
    ] = None,
) -> None:
    """Put a tenant on a plan, with per-tenant limit overrides."""
    api = api_of(ctx)
    body = {"plan": plan, "overrides": dict(_limit(item) for item in limit or [])}
    answer: Any = api.call("PUT", f"/api/v1/tenants/{tenant_id}/plan", body=body)
    limits = [(f"limits.{k}", "unlimited" if v is None else v) for k, v in answer["limits"].items()]
    api.show(answer, [*tenant_lines(answer), *limits])


@plan_app.command("list")
def plan_list(ctx: typer.Context) -> None:
    """List the plans and their limits."""
    api = api_of(ctx)
    answer: Any = api.call("GET", "/api/v1/plans")
    fields = ["live_trading", "max_exchange_accounts", "max_webhooks"]
    fields += ["max_alerts_per_hour", "max_orders_per_day", "max_leverage"]
    rows = [[p["name"], *(p["limits"][f] for f in fields)] for p in answer]
    headers = ["PLAN", "LIVE", "ACCOUNTS", "WEBHOOKS", "ALERTS/H", "ORDERS/DAY", "LEVERAGE"]
    api.table(answer, rows, headers)
