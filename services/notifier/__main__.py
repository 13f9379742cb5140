"""``python -m services.notifier``: run the notifier until SIGTERM."""

from __future__ import annotations

from libs.common.service import serve
from services.notifier.app import create_app
from services.notifier.config import notifier_settings


def main() -> None:
    """Read the settings and serve (logging and tracing are set up by `create_app`)."""
    settings = notifier_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
