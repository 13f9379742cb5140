# Sparky — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PYTEST_ARGS ?=

.PHONY: help install lock lint docs format test test-unit test-integration test-e2e \
	bench bench-ingress bench-pipeline \
	chart-check tools k8s-manifests run clean screenshots docs

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(CONSTRAINTS)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install every pinned, hash-checked dependency (quick when nothing changed)

lock: $(STAMP) ## Re-pin dependencies after editing pyproject.toml (hashes, no registry address)
	$(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes --no-emit-index-url \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu -q -o $(CONSTRAINTS)

lint: $(STAMP) ## ruff, mypy --strict, import-linter contracts, docs/asyncapi.yaml by the AsyncAPI parser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	bash scripts/install_tools.sh asyncapi
	node scripts/validate_asyncapi.mjs docs/asyncapi.yaml

docs: $(STAMP) ## Re-render generated documents
	$(BIN)/python -m scripts.render_asyncapi
	$(BIN)/python -m scripts.render_architecture
	$(BIN)/python -m scripts.render_openapi

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) tools ## Everything CI runs: chart checks (tests/unit/ops), unit, integration and e2e tests
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: $(STAMP) ## Unit tests only (no servers needed)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test-integration: $(STAMP) ## Integration tests against real Postgres, Redis, NATS and OpenBao
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

test-e2e: $(STAMP) ## End-to-end tests of the whole pipeline
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

bench: $(STAMP) ## Benchmarks: print figures (record them in docs/benchmarks.md)
	$(BIN)/python -m benchmarks.bench_common
	$(BIN)/python -m benchmarks.bench_paper
	$(BIN)/python -m benchmarks.bench_billing
	$(BIN)/python -m benchmarks.bench_router
	$(BIN)/python -m benchmarks.bench_ledger
	$(BIN)/python -m benchmarks.bench_executor
	$(BIN)/python -m benchmarks.bench_pipeline

bench-ingress: $(STAMP) ## Ingress under open-model load: accepted/s, p50/p99/p99.9 (about 2.5 min; ARGS=--quick: 40 s)
	$(BIN)/python -m benchmarks.bench_ingress $(ARGS)

bench-pipeline: $(STAMP) ## Whole pipeline under open-model load: latency, bursts, CPU per service (ARGS=--quick, --sweep, --realistic, --kill…: docs/benchmarks.md)
	$(BIN)/python -m benchmarks.bench_pipeline $(ARGS)

.PHONY: bench-feed
bench-feed: $(STAMP) ## The alert feed with 100,000 alerts: the ledger's API, then the web pages (about 4 min)
	$(BIN)/python -m benchmarks.bench_feed
	$(BIN)/python -m benchmarks.bench_feed_web

screenshots: $(STAMP) ## Re-take docs/screenshots (the README's) with the browser test
	SPARKY_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/e2e/web

chart-check: $(STAMP) ## Helm lint/render, kubernetes-validate 1.29-1.31, promtool, deploy/ diff, hadolint, metrics (tests/unit/ops)
	bash scripts/chart_check.sh

tools: $(STAMP) ## Install helm, promtool and hadolint into .tools/ (the chart checks' tools)
	bash scripts/chart_check.sh --install-only

k8s-manifests: $(STAMP) ## Re-render deploy/k8s and deploy/prometheus from helm/sparky
	bash scripts/install_tools.sh
	bash scripts/render_k8s.sh

run: $(STAMP) ## Start everything locally (missing servers too) with a demo trader; Ctrl-C stops it
	$(BIN)/python -m scripts.run

clean: ## Remove the virtualenv, caches and local data
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .devstack
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
