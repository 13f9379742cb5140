# syntax=docker/dockerfile:1
# One image per service, from one Dockerfile:
#   docker build --build-arg SERVICE=router -t sparky-router:0.1.0 .
# SERVICE is one of ingress, router, executor, ledger, billing, paper, web, notifier. The image
# holds that service's optional-dependency group only (ccxt only in executor,
# python-telegram-bot only in notifier), installed from the hashed pins of
# requirements/constraints.txt; the final stage has no compiler and runs as uid 10001.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/
COPY scripts/service_requirements.py scripts/
# Wheels only (no compiler needed or present); every file checked against its locked hash.
RUN case "${SERVICE}" in \
      ingress|router|executor|ledger|billing|paper|web|notifier) ;; \
      *) echo "build with --build-arg SERVICE=<ingress|router|executor|ledger|billing|paper|web|notifier>" >&2; exit 2 ;; \
    esac \
    && python scripts/service_requirements.py "${SERVICE}" > /tmp/requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-deps --require-hashes --only-binary=:all: \
         -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check
COPY tools/ /src/tools/
COPY libs/ /app/libs/
COPY services/__init__.py /app/services/__init__.py
COPY services/${SERVICE}/ /app/services/${SERVICE}/
# The billing image also carries the operator's `sparkyctl` (tools/sparkyctl, a client of
# billing's API), as pip would write the console script: `kubectl exec … -- sparkyctl`.
RUN if [ "${SERVICE}" = billing ]; then \
      cp -r /src/tools /app/tools \
      && printf '%s\n' '#!/opt/venv/bin/python' 'import sys' \
        'from tools.sparkyctl.cli import main' 'sys.exit(main())' > /opt/venv/bin/sparkyctl \
      && chmod 0755 /opt/venv/bin/sparkyctl; \
    fi \
    && /opt/venv/bin/python -m compileall -q /app

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="sparky-${SERVICE}" \
      org.opencontainers.image.description="Sparky ${SERVICE}: TradingView alerts to exchange orders"
RUN groupadd --system --gid 10001 sparky \
    && useradd --system --uid 10001 --gid sparky --no-create-home \
         --home-dir /nonexistent --shell /usr/sbin/nologin sparky
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SPARKY_SERVICE=${SERVICE} \
    SPARKY_HTTP_HOST=0.0.0.0 \
    SPARKY_HTTP_PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Docker and Compose only: Kubernetes uses the chart's probes and ignores this.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["sh", "-c", "exec python -m \"services.${SPARKY_SERVICE}\""]
