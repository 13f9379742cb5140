"""``python -m services.web``: run the trader's web app until SIGTERM."""

from __future__ import annotations

from libs.common.service import bootstrap, serve
from services.web.app import create_app
from services.web.config import SERVICE, web_settings


def main() -> None:
    """Read the settings, configure logging and tracing, and serve."""
    settings = web_settings()
    provider = bootstrap(SERVICE, settings)
    serve(create_app(settings, tracer_provider=provider), settings)


if __name__ == "__main__":
    main()
