"""``python -m services.executor``: the API, the ORDERS consumer and the order tracker."""

from libs.common.service import serve
from services.executor.app import create_app
from services.executor.config import executor_settings


def main() -> None:
    """Run the executor until SIGTERM."""
    settings = executor_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
