"""The ``sparkyctl`` command: its command groups and the connection they share.

Settings come from the environment: ``SPARKY_BILLING_URL`` (default http://127.0.0.1:8101)
and ``SPARKY_OPERATOR_TOKEN``, your own operator token (never a command-line argument: it
would show in ``ps``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tools.sparkyctl.client import DEFAULT_URL, BillingApi
from tools.sparkyctl.credentials import key_app, token_app
from tools.sparkyctl.operators import audit_app, operator_app
from tools.sparkyctl.tenants import plan_app, tenant_app
from tools.sparkyctl.usage import usage_app

app = typer.Typer(help="Operate Sparky's tenants, plans, tokens and usage.", no_args_is_help=True)
for sub, name in (
    (tenant_app, "tenant"),
    (plan_app, "plan"),
    (token_app, "token"),
    (key_app, "apikey"),
    (usage_app, "usage"),
    (operator_app, "operator"),
    (audit_app, "audit"),
):
    app.add_typer(sub, name=name, no_args_is_help=True)


@app.callback()
def _connect(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(envvar="SPARKY_BILLING_URL", help="Billing's API.")
    ] = DEFAULT_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON answers.")] = False,  # noqa: FBT002
) -> None:
    ctx.obj = BillingApi(url, os.environ.get("SPARKY_OPERATOR_TOKEN", ""), as_json=as_json)


def main() -> None:
    """Run the ``sparkyctl`` command."""
    app()
