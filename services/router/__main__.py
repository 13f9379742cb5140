"""``python -m services.router``: the settings API and the consumers, until SIGTERM."""

from __future__ import annotations

from libs.common.service import bootstrap, serve
from services.router.app import create_app
from services.router.config import SERVICE, router_settings


def main() -> None:
    """Read the settings, configure logging and tracing, and serve."""
    settings = router_settings()
    provider = bootstrap(SERVICE, settings)
    serve(create_app(settings, tracer_provider=provider), settings)


if __name__ == "__main__":
    main()
