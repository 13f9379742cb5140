"""``python -m services.billing``: run billing until SIGTERM."""

from __future__ import annotations

from libs.common.config import load_settings
from libs.common.service import bootstrap, serve
from services.billing.app import SERVICE, create_app
from services.billing.config import BillingSettings


def main() -> None:
    """Read the settings, configure logging and tracing, and serve."""
    settings = load_settings(BillingSettings)
    provider = bootstrap(SERVICE, settings)
    serve(create_app(settings, tracer_provider=provider), settings)


if __name__ == "__main__":
    main()
