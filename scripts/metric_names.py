"""List the metric names the Grafana dashboards and the alert rules use, and check each exists.

Sources of references: every PromQL expression in ``helm/sparky/dashboards/*.json`` (panel
targets and template variables) and in ``deploy/prometheus/sparky-alerts.rules.yaml`` (the alert
rules as the chart renders them; ``make k8s-manifests`` keeps it in step).

A ``sparky_`` name is defined when a ``Counter``/``Gauge``/``Histogram``/``Summary`` under
``services/`` or ``libs/`` exposes it, with the suffixes prometheus_client adds (``_total`` for
counters, ``_bucket``/``_sum``/``_count`` for histograms). Names from outside
Sparky (kube-state-metrics, cAdvisor, Prometheus' own ``up``) must be in `EXTERNAL`.

    python -m scripts.metric_names            # print every reference and where it is used
    python -m scripts.metric_names --check    # exit 1 if one is not defined
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = Path("helm/sparky/dashboards")
RULES = Path("deploy/prometheus/sparky-alerts.rules.yaml")
SOURCES = (Path("services"), Path("libs"))

EXTERNAL = {
    "up": "Prometheus (scrape health)",
    "kube_pod_container_status_restarts_total": "kube-state-metrics",
    "container_cpu_usage_seconds_total": "cAdvisor (kubelet)",
    "container_memory_working_set_bytes": "cAdvisor (kubelet)",
}
_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w$.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_LABEL_VALUES = re.compile(r"label_values\(\s*([^,()]+)\s*,")


def promql_metrics(expr: str) -> set[str]:
    """Return the metric names an expression selects (not functions, labels or keywords)."""
    text = _STRING.sub('""', expr)
    text = _BRACES.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if not call and name not in _KEYWORDS and not name.startswith("__"):
            names.add(name)
    return names


def _dashboard_expressions(board: object) -> Iterator[tuple[str, str]]:
    """Yield (panel or variable title, expression) for every query in a dashboard."""
    if isinstance(board, dict):
        title = str(board.get("title") or board.get("name") or "")
        if isinstance(board.get("expr"), str):
            yield title, board["expr"]
        for key in ("query", "definition"):
            found = board.get(key)
            query = found.get("query") if isinstance(found, dict) else found
            if isinstance(query, str) and (match := _LABEL_VALUES.search(query)):
                yield title, match.group(1)
        for value in board.values():
            for inner_title, expr in _dashboard_expressions(value):
                yield inner_title or title, expr
    elif isinstance(board, list):
        for item in board:
            yield from _dashboard_expressions(item)


def referenced_metrics(root: Path = ROOT) -> dict[str, set[str]]:
    """Map every metric name the dashboards and alert rules use to where it is used."""
    used: dict[str, set[str]] = {}
    for path in sorted((root / DASHBOARDS).glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for title, expr in _dashboard_expressions(board.get("panels", [])):
            _add(used, promql_metrics(expr), f"{path.name}: {title}")
        for title, expr in _dashboard_expressions(board.get("templating", {})):
            _add(used, promql_metrics(expr), f"{path.name}: variable {title}")
    rules = yaml.safe_load((root / RULES).read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            where = f"{RULES.name}: {rule.get('alert') or rule.get('record')}"
            _add(used, promql_metrics(rule["expr"]), where)
    return used


def _add(used: dict[str, set[str]], names: set[str], where: str) -> None:
    for name in names:
        used.setdefault(name, set()).add(where)


def defined_metrics(root: Path = ROOT) -> set[str]:
    """Return every sample name Sparky's code exposes (suffixes included)."""
    exposed: set[str] = set()
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for kind, name in _metric_constructors(tree):
                exposed.update(_samples(kind, name))
    return exposed


def _metric_constructors(tree: ast.AST) -> Iterator[tuple[str, str]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if kind not in _SUFFIXES:
            continue
        args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "name")]
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield kind, arg.value


def _samples(kind: str, name: str) -> set[str]:
    base = name.removesuffix("_total") if kind == "Counter" else name
    return {base + suffix for suffix in _SUFFIXES[kind]}


def undefined_metrics(root: Path = ROOT) -> dict[str, set[str]]:
    """Return the referenced names that nothing defines, with where they are used."""
    defined = defined_metrics(root) | set(EXTERNAL)
    return {n: w for n, w in referenced_metrics(root).items() if n not in defined}


def main(argv: list[str] | None = None) -> int:
    """Print the references (or, with --check, only the undefined ones and fail on any)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 if a name is undefined.")
    args = parser.parse_args(argv)
    used = referenced_metrics()
    missing = undefined_metrics()
    for name in sorted(missing if args.check else used):
        status = "UNDEFINED" if name in missing else EXTERNAL.get(name, "defined")
        print(f"{name}\t{status}\t{'; '.join(sorted(used[name]))}")
    print(f"{len(used)} metric names used by dashboards and alerts, {len(missing)} undefined")
    return 1 if missing and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
