"""``python -m services.paper``: serve the paper exchange (or run a command, see cli.py)."""

from __future__ import annotations

from libs.common.config import load_settings
from libs.common.service import serve
from services.paper import cli
from services.paper.app import create_app
from services.paper.config import PaperSettings
from services.paper.protocol import BinanceHttpProtocol


def main() -> None:
    """Serve until SIGTERM, or run the command given on the command line."""
    if cli.main() != "serve":
        return
    settings = load_settings(PaperSettings)
    serve(
        create_app(settings),
        settings,
        access_log=settings.access_log,
        protocol=BinanceHttpProtocol,
    )


if __name__ == "__main__":
    main()
