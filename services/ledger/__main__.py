"""``python -m services.ledger [serve]`` runs the service; ``… rebuild`` replays the ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys

from libs.common.logs import configure_logging
from libs.common.service import serve
from services.ledger.app import create_app
from services.ledger.config import SERVICE, ledger_settings
from services.ledger.handlers.projector import ProjectorBusyError
from services.ledger.handlers.rebuild import StreamMissingError, rebuild


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.ledger", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="Run the projector and the read API (the default).")
    replay = commands.add_parser(
        "rebuild", help="Empty the projections and replay EVENTS from its first event."
    )
    replay.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="How long to wait for a running projector to stop (default: fail at once).",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names; return the process exit code."""
    args = _parser().parse_args(argv)
    settings = ledger_settings()
    if args.command != "rebuild":
        serve(create_app(settings), settings)
        return 0
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    try:
        report = asyncio.run(rebuild(settings, lock_timeout_s=args.wait))
    except (ProjectorBusyError, StreamMissingError) as exc:
        sys.stderr.write(f"rebuild refused: {exc}\n")
        return 2
    sys.stdout.write(f"ledger rebuilt from {report.last_seq} events in {report.seconds:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
