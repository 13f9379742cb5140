"""``python -m services.executor``: the process ``SPARKY_EXECUTOR_ROLE`` names: ``trading``
(default: the ORDERS consumer and the order tracker) or ``accounts`` (the exchange-accounts API).
"""

from libs.common.service import serve
from services.executor.app import create_app
from services.executor.config import executor_settings


def main() -> None:
    """Run the executor in its role until SIGTERM."""
    settings = executor_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
