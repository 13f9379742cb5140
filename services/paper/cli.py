"""Command line: ``python -m services.paper [serve]`` and ``… create-account``.

``create-account`` writes straight into the state file (the exchange need not be running; when
it is, it sees the new account at once, since both take SQLite's write lock in turn) and prints
the new credentials as one JSON object on stdout: the only time they are shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from libs.common.config import load_settings
from services.paper import accounts
from services.paper.config import PaperSettings
from services.paper.exchange import wall_clock_ms
from services.paper.store.database import Store


def _balance(text: str) -> tuple[str, Decimal]:
    try:
        return accounts.parse_balance(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    root = argparse.ArgumentParser(prog="python -m services.paper", description=__doc__)
    commands = root.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the exchange (the default)")
    create = commands.add_parser("create-account", help="create an account, print its keys")
    create.add_argument(
        "--balance",
        action="append",
        type=_balance,
        default=[],
        metavar="ASSET=AMOUNT",
        help="a starting free balance, e.g. USDT=10000 (repeat for more assets)",
    )
    create.add_argument("--label", default="", help="a name for people")
    create.add_argument(
        "--state-path", type=Path, default=None, help="the state file (default: settings)"
    )
    return root


async def _create(state_path: Path, label: str, balances: dict[str, Decimal]) -> dict[str, object]:
    store = await Store.open(state_path)
    try:
        new = await accounts.create_account(store, label, balances, wall_clock_ms())
    finally:
        await store.close()
    return {
        "account_id": new.account_id,
        "label": new.label,
        "api_key": new.api_key,
        "secret": new.secret,
    }


def create_account(args: argparse.Namespace) -> int:
    """Run ``create-account``; print the credentials as JSON."""
    state_path = args.state_path or load_settings(PaperSettings).state_path
    created = asyncio.run(_create(state_path, args.label, dict(args.balance)))
    sys.stdout.write(json.dumps(created) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> str | None:
    """Parse ``argv``; return "serve" when the server should run, else run the command."""
    args = parser().parse_args(argv)
    if args.command in (None, "serve"):
        return "serve"
    create_account(args)
    return None
