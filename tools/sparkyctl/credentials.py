"""``sparkyctl token …`` (a tenant's webhooks) and ``sparkyctl apikey …``: each new secret is
printed once, lists show prefixes only."""

from __future__ import annotations

from typing import Any

import typer

from tools.sparkyctl.client import AllowIp, BillingApi, Grace, api_of

token_app = typer.Typer(help="A tenant's webhooks and their tokens.")
key_app = typer.Typer(help="A tenant's API keys.")


def _show_webhook(api: BillingApi, answer: Any) -> None:
    api.show(
        answer,
        [
            ("webhook_id", answer["webhook"]["webhook_id"]),
            ("label", answer["webhook"]["label"]),
            ("webhook_url", answer["url"]),
            ("note", "the webhook URL is shown this once: store it now"),
        ],
    )


@token_app.command("list")
def token_list(ctx: typer.Context, tenant_id: str) -> None:
    """List a tenant's webhooks (tokens masked to their first 8 characters)."""
    api = api_of(ctx)
    answer: Any = api.call("GET", f"/api/v1/tenants/{tenant_id}/webhooks")
    rows = [
        [
            w["webhook_id"],
            w["label"],
            w["state"],
            ",".join(w["allowed_ips"]) or "any",
            " ".join(f"{t['prefix']}…({t['state']})" for t in w["tokens"]),
        ]
        for w in answer
    ]
    api.table(answer, rows, ["WEBHOOK", "LABEL", "STATE", "ALLOWED IPS", "TOKENS"])


@token_app.command("create")
def token_create(ctx: typer.Context, tenant_id: str, label: str, allow_ip: AllowIp = None) -> None:
    """Add a webhook (one per strategy) and print its URL."""
    api = api_of(ctx)
    body = {"label": label, "allowed_ips": allow_ip or []}
    _show_webhook(api, api.call("POST", f"/api/v1/tenants/{tenant_id}/webhooks", body=body))


@token_app.command("rotate")
def token_rotate(ctx: typer.Context, tenant_id: str, webhook_id: str, grace: Grace = 0) -> None:
    """Give a webhook a new token; the old one works ``--grace`` seconds more."""
    api = api_of(ctx)
    path = f"/api/v1/tenants/{tenant_id}/webhooks/{webhook_id}/rotate"
    _show_webhook(api, api.call("POST", path, body={"grace_seconds": grace}))


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, tenant_id: str, webhook_id: str) -> None:
    """Revoke a webhook: its tokens stop working within 2 seconds."""
    api_of(ctx).call("DELETE", f"/api/v1/tenants/{tenant_id}/webhooks/{webhook_id}")
    typer.echo(f"revoked {webhook_id}")


@key_app.command("list")
def key_list(ctx: typer.Context, tenant_id: str) -> None:
    """List a tenant's API keys (masked)."""
    api = api_of(ctx)
    answer: Any = api.call("GET", f"/api/v1/tenants/{tenant_id}/api-keys")
    rows = [[k["key_id"], k["label"], f"{k['prefix']}…", k["state"]] for k in answer]
    api.table(answer, rows, ["KEY", "LABEL", "PREFIX", "STATE"])


def _show_key(api: BillingApi, answer: Any) -> None:
    api.show(
        answer,
        [
            ("key_id", answer["api_key"]["key_id"]),
            ("api_key", answer["key"]),
            ("note", "the API key is shown this once: store it now"),
        ],
    )


@key_app.command("create")
def key_create(ctx: typer.Context, tenant_id: str, label: str = "default") -> None:
    """Issue an API key and print it."""
    api = api_of(ctx)
    _show_key(api, api.call("POST", f"/api/v1/tenants/{tenant_id}/api-keys", body={"label": label}))


@key_app.command("rotate")
def key_rotate(ctx: typer.Context, tenant_id: str, key_id: str, grace: Grace = 0) -> None:
    """Replace an API key; the old one works ``--grace`` seconds more."""
    api = api_of(ctx)
    path = f"/api/v1/tenants/{tenant_id}/api-keys/{key_id}/rotate"
    _show_key(api, api.call("POST", path, body={"grace_seconds": grace}))


@key_app.command("revoke")
def key_revoke(ctx: typer.Context, tenant_id: str, key_id: str) -> None:
    """Revoke an API key: it stops working within 2 seconds."""
    api_of(ctx).call("DELETE", f"/api/v1/tenants/{tenant_id}/api-keys/{key_id}")
    typer.echo(f"revoked {key_id}")
