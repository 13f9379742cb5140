"""Render the OpenAPI document of every Sparky HTTP API into ``docs/api/<service>.json``.

Each app is built as its service builds it (``create_app(settings)``, with settings that
need no server: nothing connects until a lifespan starts, and none is started here), and
its ``app.openapi()`` is written with sorted keys, an indent of 2 and a trailing newline, so
a render is the same on every machine and a diff shows what changed in a contract.

What is left out, and why:

- ``/healthz``, ``/readyz`` and ``/metrics`` (`libs.common.ops`): the same on every service,
  for the orchestrator and Prometheus rather than for a caller; they are hidden from every
  app's document (``include_in_schema=False``), so the rendered file is what ``GET
  /openapi.json`` serves.
- The web app: its routes are HTML pages and form posts (sign-in, CSRF), not a JSON API; it
  serves no document (``openapi_url=None``) and calls the other services' APIs itself.
- The executor's trading role: it serves only the ops endpoints. The accounts role serves
  the exchange-accounts API, rendered as ``executor.json``.

    python -m scripts.render_openapi            # write docs/api/*.json
    python -m scripts.render_openapi --check    # exit 1, naming each stale file
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.billing.app import create_app as billing_app
from services.billing.config import BillingSettings
from services.executor.app import create_app as executor_app
from services.executor.config import ExecutorRole, executor_settings
from services.ingress.app import create_app as ingress_app
from services.ingress.config import ingress_settings
from services.ledger.app import create_app as ledger_app
from services.ledger.config import ledger_settings
from services.notifier.app import create_app as notifier_app
from services.notifier.config import notifier_settings
from services.paper.app import create_app as paper_app
from services.paper.config import PaperSettings
from services.router.app import create_app as router_app
from services.router.config import router_settings

ROOT = Path(__file__).resolve().parent.parent
API_DOCS = Path("docs/api")
RENDER = "python -m scripts.render_openapi"


APPS: Mapping[str, Callable[[], FastAPI]] = {
    "billing": lambda: billing_app(BillingSettings()),
    "executor": lambda: executor_app(executor_settings(role=ExecutorRole.ACCOUNTS)),
    "ingress": lambda: ingress_app(ingress_settings()),
    "ledger": lambda: ledger_app(ledger_settings()),
    "notifier": lambda: notifier_app(notifier_settings()),
    "paper": lambda: paper_app(PaperSettings()),
    "router": lambda: router_app(router_settings()),
}
"""Each service's app, built as its ``__main__`` builds it, from settings that need no server."""


def document(service: str) -> dict[str, Any]:
    """Return ``service``'s OpenAPI document, as its app serves it at ``/openapi.json``."""
    return APPS[service]().openapi()


def dumps(found: Mapping[str, Any]) -> str:
    """Return the committed text of a document: sorted keys, indent 2, a trailing newline."""
    return json.dumps(found, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(service: str, root: Path = ROOT) -> Path:
    """Return where ``service``'s document is committed."""
    return root / API_DOCS / f"{service}.json"


def stale(root: Path = ROOT) -> list[Path]:
    """Return the committed documents that differ from a fresh render (or are missing)."""
    found = []
    for service in APPS:
        path = path_of(service, root)
        if not path.exists() or path.read_text(encoding="utf-8") != dumps(document(service)):
            found.append(path.relative_to(root))
    return found


def write(root: Path = ROOT) -> list[Path]:
    """Render every document; return the files written."""
    written = []
    for service in APPS:
        path = path_of(service, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(document(service)), encoding="utf-8")
        written.append(path.relative_to(root))
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the documents, or with ``--check`` report the stale ones and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a document is stale")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(ROOT)
        for path in outdated:
            print(f"{path} is stale: run `{RENDER}`", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(ROOT):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
