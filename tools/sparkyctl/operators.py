"""``sparkyctl operator …`` (people who operate Sparky) and ``sparkyctl audit …`` (what they
did)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tools.sparkyctl.client import api_of

operator_app = typer.Typer(help="Operators: each person with a token of their own.")
audit_app = typer.Typer(help="The audit log of operator actions.")


@operator_app.command("create")
def operator_create(ctx: typer.Context, name: str) -> None:
    """Add an operator; print their token (shown this once)."""
    api = api_of(ctx)
    answer: Any = api.call("POST", "/api/v1/operators", body={"name": name})
    api.show(
        answer,
        [
            ("operator_id", answer["operator"]["operator_id"]),
            ("name", answer["operator"]["name"]),
            ("token", answer["token"]),
            ("note", "the token is shown this once: hand it to its owner, store nothing else"),
        ],
    )


@operator_app.command("list")
def operator_list(
    ctx: typer.Context,
    include_revoked: Annotated[bool, typer.Option("--all", help="Revoked ones too.")] = False,  # noqa: FBT002
) -> None:
    """List the operators (tokens masked)."""
    api = api_of(ctx)
    params = {"include_revoked": str(include_revoked).lower()}
    answer: Any = api.call("GET", "/api/v1/operators", params=params)
    fields = ("name", "state", "prefix", "created_by", "created_at", "revoked_by")
    rows = [[o[f] for f in fields] for o in answer]
    header = ["NAME", "STATE", "TOKEN PREFIX", "CREATED BY", "CREATED", "REVOKED BY"]
    api.table(answer, rows, header)


@operator_app.command("revoke")
def operator_revoke(ctx: typer.Context, name: str) -> None:
    """Revoke an operator's token at once (``bootstrap``: the configured token)."""
    api_of(ctx).call("DELETE", f"/api/v1/operators/{name}")
    typer.echo(f"revoked {name}")


@audit_app.command("list")
def audit_list(  # noqa: PLR0917 - one option per filter
    ctx: typer.Context,
    operator: Annotated[str | None, typer.Option(help="One operator's actions.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Actions on one tenant.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this ISO 8601 time.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Before this ISO 8601 time.")] = None,
    after: Annotated[int | None, typer.Option(help="The next page: `next_after`.")] = None,
    limit: Annotated[int, typer.Option(help="Entries per page (at most 500).")] = 100,
) -> None:
    """Print operator actions in the order they happened."""
    api = api_of(ctx)
    params = {"operator": operator, "tenant_id": tenant, "from": start, "to": end}
    params |= {"after": None if after is None else str(after), "limit": str(limit)}
    query = {k: v for k, v in params.items() if v is not None}
    answer: Any = api.call("GET", "/api/v1/audit", params=query)
    fields = ("audit_id", "at", "operator", "action", "tenant_id", "target", "status")
    rows = [[e[f] for f in (*fields, "outcome", "request_id")] for e in answer["entries"]]
    header = ["ID", "AT", "OPERATOR", "ACTION", "TENANT", "TARGET", "STATUS", "OUTCOME"]
    api.table(answer, rows, [*header, "REQUEST"])
    if answer["next_after"] is not None and not api.as_json:
        typer.echo(f"more: --after {answer['next_after']}")
