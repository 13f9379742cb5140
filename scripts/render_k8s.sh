#!/usr/bin/env bash
# Render the plain manifests from the chart with its default values (never edit them by hand):
#   deploy/k8s/sparky.yaml       every workload, Service, Ingress, policy…
#   deploy/k8s/migrations.yaml   the schema migration Jobs (Helm runs them as hooks)
#   deploy/k8s/monitoring.yaml   ServiceMonitor, PrometheusRule, Grafana dashboards
#   deploy/prometheus/sparky-alerts.rules.yaml  the alert rules as a plain Prometheus rules file
# Usage: scripts/render_k8s.sh            write them
#        scripts/render_k8s.sh --check    fail if they differ from what the chart renders
#        scripts/render_k8s.sh --out DIR  write them under DIR instead (DIR/k8s, DIR/prometheus)
set -euo pipefail
cd "$(dirname "$0")/.."

HELM=${HELM:-.tools/bin/helm}
PYTHON=${PYTHON:-.venv/bin/python}
RELEASE=sparky
NAMESPACE=sparky

mode="write"
out=deploy
case "${1:-}" in
  --check) mode=check; out=$(mktemp -d) ;;
  --out) out=${2:?--out needs a directory} ;;
  "") ;;
  *) echo "usage: $0 [--check | --out DIR]" >&2; exit 2 ;;
esac

[ -x "$HELM" ] || { echo "render_k8s: $HELM missing: run scripts/install_tools.sh" >&2; exit 1; }
mkdir -p "$out/k8s" "$out/prometheus"
rendered=$(mktemp)
cleanup() {
  rm -f "$rendered"
  if [ "$mode" = check ]; then rm -rf "$out"; fi
}
trap cleanup EXIT
"$HELM" template "$RELEASE" helm/sparky --namespace "$NAMESPACE" > "$rendered"

# Split helm's output at each document, by the template it came from.
header='# Rendered from helm/sparky by scripts/render_k8s.sh (make k8s-manifests): do not edit.'
for part in sparky migrations monitoring; do echo "$header" > "$out/k8s/$part.yaml"; done
awk -v dir="$out/k8s" '
  /^---$/ { doc = $0; next }
  /^# Source: / {
    part = "sparky.yaml"
    if ($3 ~ /templates\/migrations\.yaml$/) part = "migrations.yaml"
    if ($3 ~ /templates\/(servicemonitor|prometheusrule|dashboards)\.yaml$/) part = "monitoring.yaml"
    print "---" >> (dir "/" part)
  }
  { print >> (dir "/" part) }
' "$rendered"

"$PYTHON" - "$rendered" "$out/prometheus/sparky-alerts.rules.yaml" <<'EOF'
"""Write the PrometheusRule's groups as a plain rules file (promtool, Prometheus without the
operator); multi-line expressions stay literal blocks so the file reads like the chart."""
import sys

import yaml


def literal(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


yaml.SafeDumper.add_representer(str, literal)
with open(sys.argv[1], encoding="utf-8") as src:
    rules = [d for d in yaml.safe_load_all(src) if d and d.get("kind") == "PrometheusRule"]
if len(rules) != 1:
    raise SystemExit(f"expected one PrometheusRule in the default render, found {len(rules)}")
with open(sys.argv[2], "w", encoding="utf-8") as dst:
    dst.write("# Rendered from helm/sparky by scripts/render_k8s.sh: do not edit.\n")
    yaml.safe_dump(rules[0]["spec"], dst, sort_keys=False, width=4096, allow_unicode=True)
EOF

if [ "$mode" = check ]; then
  status=0
  for file in k8s/sparky.yaml k8s/migrations.yaml k8s/monitoring.yaml \
              prometheus/sparky-alerts.rules.yaml; do
    if ! diff -u "deploy/$file" "$out/$file" > /dev/null 2>&1; then
      echo "render_k8s: deploy/$file differs from the chart: run make k8s-manifests" >&2
      diff -u "deploy/$file" "$out/$file" | head -n 40 >&2 || true
      status=1
    fi
  done
  exit "$status"
fi
echo "render_k8s: wrote $out/k8s/{sparky,migrations,monitoring}.yaml and $out/prometheus/sparky-alerts.rules.yaml"
