"""Helpers of the operations tests: find the tools, render the chart, pick objects out of it.

The tools (helm, promtool, hadolint) are installed by ``make chart-check``
(scripts/install_tools.sh, scripts/chart_check.sh). Without them a test is skipped on a
developer's machine and fails in CI (``CI=true``), where the Makefile installs them first.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "sparky"
PRODUCTION = CHART / "values-production.yaml"
SERVICES = ("ingress", "router", "executor", "ledger", "billing", "paper", "web", "notifier")
# Every workload the chart runs: the services, and the exchange-accounts API (accounts), which is
# the executor's code (image, module, settings) in its accounts role.
COMPONENTS = (*SERVICES, "accounts")
PROGRAMS = {"accounts": "executor"}
DATABASE_SERVICES = ("router", "executor", "ledger", "billing", "web", "notifier")
# Behind the API host's Ingress: not the executor (trading), which serves no tenant API.
PUBLIC_SERVICES = ("ingress", "router", "accounts", "ledger", "billing")
# The web app has an Ingress (and host) of its own; these are the APIs it calls as the trader.
WEB_CALLS = ("billing", "router", "ledger", "accounts", "ingress", "notifier")
# The APIs the notifier calls with the tenant API key it holds for a tenant.
NOTIFIER_CALLS = ("billing", "router", "ledger", "ingress", "accounts")

Doc = dict[str, Any]


def program(component: str) -> str:
    """Return the service whose code ``component`` runs (``services.<program>``)."""
    return PROGRAMS.get(component, component)


def tool(name: str) -> Path:
    """Return the path of ``name`` (``.tools/bin`` first, then ``PATH``), or skip the test."""
    local = REPO / ".tools" / "bin" / name
    if local.exists():
        return local
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    message = f"{name} is not installed: run scripts/chart_check.sh (make chart-check) once"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with ``args``; raise on failure when ``check``."""
    return subprocess.run(
        [str(tool("helm")), *args], capture_output=True, text=True, check=check, timeout=120
    )


def template_args(values: Sequence[Path] = (), sets: Mapping[str, str] | None = None) -> list[str]:
    """Return the arguments of ``helm template`` for the release ``sparky`` in ``sparky``."""
    args = ["template", "sparky", str(CHART), "--namespace", "sparky"]
    for path in values:
        args += ["-f", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


@functools.cache
def _rendered(values: tuple[Path, ...], sets: tuple[tuple[str, str], ...]) -> str:
    return helm(*template_args(values, dict(sets))).stdout


def render(values: Sequence[Path] = (), sets: Mapping[str, str] | None = None) -> list[Doc]:
    """Render the chart and return its objects (rendering cached per values)."""
    text = _rendered(tuple(values), tuple(sorted((sets or {}).items())))
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_error(sets: Mapping[str, str]) -> str:
    """Render with ``sets`` expecting a failure; return helm's error output."""
    result = helm(*template_args(sets=sets), check=False)
    assert result.returncode != 0, f"helm template accepted {sets}"
    return result.stderr


def find(docs: Sequence[Doc], kind: str, name: str | None = None) -> list[Doc]:
    """Return the objects of ``kind`` (named ``name`` when given)."""
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: Sequence[Doc], kind: str, name: str) -> Doc:
    """Return the single object of ``kind`` named ``name``."""
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def workload(docs: Sequence[Doc], service: str) -> Doc:
    """Return the Deployment or StatefulSet running ``service``."""
    found = [
        d
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
        and d["metadata"]["name"] == f"sparky-{service}"
    ]
    assert len(found) == 1, f"no single workload for {service}"
    return found[0]


def pod_specs(docs: Sequence[Doc]) -> Iterator[tuple[str, Doc]]:
    """Yield (object name, pod spec) of every workload and Job."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def container(docs: Sequence[Doc], service: str) -> Doc:
    """Return the container of ``service``'s workload."""
    containers: list[Doc] = workload(docs, service)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container_spec: Doc) -> dict[str, Doc]:
    """Return a container's environment by variable name (each entry as rendered)."""
    entries: list[Doc] = container_spec.get("env", [])
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), f"duplicate variables: {names}"
    return {e["name"]: e for e in entries}
