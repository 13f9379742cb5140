"""Who may talk to whom: the Ingress routes and the NetworkPolicies."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from starlette.routing import Route

from tests.unit.ops.chart import (
    PRODUCTION,
    PUBLIC_SERVICES,
    REPO,
    Doc,
    find,
    one,
    program,
    render,
)

# Served by billing to operators only (the `sparky` CLI): internal unless exposeOperatorApi.
OPERATOR_PREFIXES = ("/api/v1/tenants", "/api/v1/plans", "/api/v1/operators", "/api/v1/audit")


def _routers(service: str) -> Iterator[APIRouter]:
    """Yield the APIRouters defined by ``services.<program>``'s api module or package."""
    code = program(service)
    package = REPO / "services" / code
    names = [f"services.{code}.api"]
    if (package / "api").is_dir():
        names += [
            f"services.{code}.api.{m.name}" for m in pkgutil.iter_modules([str(package / "api")])
        ]
    for name in names:
        module = importlib.import_module(name)
        yield from (v for v in vars(module).values() if isinstance(v, APIRouter))


def _paths(service: str) -> set[str]:
    paths = {
        route.path for router in _routers(service) for route in router.routes
        if isinstance(route, Route)  # FastAPI's APIRoute or a plain Starlette route
    }  # fmt: skip
    assert paths, f"found no HTTP route of {service}"
    return paths


def _ingress_paths(docs: list[Doc]) -> dict[str, tuple[str, str]]:
    (ingress,) = find(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    return {
        p["path"]: (p["pathType"], p["backend"]["service"]["name"].removeprefix("sparky-"))
        for p in rule["http"]["paths"]
    }


def _matches(path: str, path_type: str, route: str) -> bool:
    if path_type == "Exact":
        return route == path
    prefix = path.rstrip("/")
    return route == prefix or route.startswith(prefix + "/")


def test_every_public_route_of_every_service_is_reachable_through_the_ingress() -> None:
    paths = _ingress_paths(render())
    for service in PUBLIC_SERVICES:
        for route in _paths(service):
            if route.startswith(OPERATOR_PREFIXES):
                continue
            owners = {svc for p, (kind, svc) in paths.items() if _matches(p, kind, route)}
            assert owners == {service}, (
                f"{service} serves {route}; the Ingress sends it to {owners}"
            )


def test_every_ingress_path_leads_to_a_route_of_its_service() -> None:
    for path, (kind, service) in _ingress_paths(render()).items():
        assert any(_matches(path, kind, r) for r in _paths(service)), (path, service)


def test_operator_api_stays_internal_unless_asked() -> None:
    assert not set(_ingress_paths(render())) & set(OPERATOR_PREFIXES)
    exposed = _ingress_paths(render(sets={"ingress.exposeOperatorApi": "true"}))
    assert {exposed[p][1] for p in OPERATOR_PREFIXES} == {"billing"}


def test_the_ingress_serves_tls_only_for_its_host() -> None:
    (ingress,) = find(render([PRODUCTION]), "Ingress")
    assert ingress["spec"]["tls"] == [
        {"hosts": ["hooks.sparky.example.com"], "secretName": "sparky-hooks-tls"}
    ]
    assert ingress["spec"]["rules"][0]["host"] == "hooks.sparky.example.com"


def _policy(docs: list[Doc], name: str) -> Doc:
    spec: Doc = one(docs, "NetworkPolicy", f"sparky-{name}")["spec"]
    return spec


def test_every_pod_is_denied_by_default() -> None:
    spec = _policy(render(), "default-deny")
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "sparky",
        "app.kubernetes.io/instance": "sparky",
    }
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec
    assert "egress" not in spec


def test_only_ingress_and_the_api_services_accept_the_ingress_controller() -> None:
    spec = _policy(render(), "from-ingress-controller")
    (expression,) = spec["podSelector"]["matchExpressions"]
    assert expression["key"] == "app.kubernetes.io/component"
    assert sorted(expression["values"]) == sorted(PUBLIC_SERVICES)
    assert "executor" not in expression["values"]  # trading pods serve no tenant API
    (peer,) = spec["ingress"][0]["from"]
    assert peer["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
    }


def _components(selector: Doc) -> set[str] | None:
    """The components a pod selector picks (None: any component of the release)."""
    one_component = selector.get("matchLabels", {}).get("app.kubernetes.io/component")
    if one_component:
        return {one_component}
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == "app.kubernetes.io/component":
            assert expression["operator"] == "In"
            return set(expression["values"])
    return None


def test_only_executors_and_the_accounts_api_reach_vault_and_the_internet() -> None:
    docs = render()
    egress = [p for p in find(docs, "NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]]
    for policy in egress:
        rules = policy["spec"].get("egress", [])
        reaches_vault = any({"port": 8200, "protocol": "TCP"} in r["ports"] for r in rules)
        reaches_internet = any("ipBlock" in peer for r in rules for peer in r.get("to", []))
        selected = _components(policy["spec"]["podSelector"])
        if reaches_vault or reaches_internet:
            assert selected == {"executor", "accounts"}, policy["metadata"]["name"]
    internet = _policy(docs, "executor-egress")
    block = next(
        p["ipBlock"] for r in internet["egress"] for p in r.get("to", []) if "ipBlock" in p
    )
    assert block["cidr"] == "0.0.0.0/0"
    assert "10.0.0.0/8" in block["except"]


@pytest.mark.parametrize("port", [53, 4222, 5432, 6379])
def test_every_pod_reaches_dns_nats_postgres_and_redis(port: int) -> None:
    spec = _policy(render(), "egress-infrastructure")
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "sparky",
        "app.kubernetes.io/instance": "sparky",
    }
    assert any(p["port"] == port for rule in spec["egress"] for p in rule["ports"])


def test_only_executors_and_the_accounts_api_reach_the_paper_exchange() -> None:
    spec = _policy(render(), "paper-from-executor")
    (rule,) = spec["ingress"]
    (peer,) = rule["from"]
    assert _components(peer["podSelector"]) == {"executor", "accounts"}
    assert not find(render([PRODUCTION]), "NetworkPolicy", "sparky-paper-from-executor")
