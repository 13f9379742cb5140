"""Who may talk to whom: the Ingress routes and the NetworkPolicies."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from starlette.routing import Route

from tests.unit.ops.chart import (
    NOTIFIER_CALLS,
    PRODUCTION,
    PUBLIC_SERVICES,
    REPO,
    WEB_CALLS,
    Doc,
    find,
    one,
    program,
    render,
)

# Served by billing to operators only (the `sparkyctl` CLI): internal unless exposeOperatorApi.
OPERATOR_PREFIXES = ("/api/v1/tenants", "/api/v1/plans", "/api/v1/operators", "/api/v1/audit")
# Billing's sign-up API: for the web app only, inside the cluster, never through the Ingress.
SIGNUPS = "/api/v1/signups"


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


def _ingress_paths(docs: list[Doc], name: str = "sparky") -> dict[str, tuple[str, str]]:
    ingress = one(docs, "Ingress", name)
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
            if route.startswith((*OPERATOR_PREFIXES, SIGNUPS)):
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
    assert not any(_matches(p, kind, SIGNUPS) for p, (kind, _) in exposed.items())


def test_the_ingress_serves_tls_only_for_its_host() -> None:
    ingress = one(render([PRODUCTION]), "Ingress", "sparky")
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


def test_the_web_app_has_a_host_of_its_own_all_of_whose_paths_are_its() -> None:
    docs = render([PRODUCTION])
    web = one(docs, "Ingress", "sparky-web")
    assert web["spec"]["tls"] == [
        {"hosts": ["app.sparky.example.com"], "secretName": "sparky-app-tls"}
    ]
    assert _ingress_paths(docs, "sparky-web") == {"/": ("Prefix", "web")}
    assert web["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    # Its session cookie never reaches the webhook/API host, nor the API paths the web host.
    assert "web" not in {svc for _, svc in _ingress_paths(docs).values()}
    assert not find(render(sets={"ingress.enabled": "false"}), "Ingress")


def test_only_ingress_and_the_api_services_accept_the_ingress_controller() -> None:
    spec = _policy(render(), "from-ingress-controller")
    (expression,) = spec["podSelector"]["matchExpressions"]
    assert expression["key"] == "app.kubernetes.io/component"
    assert sorted(expression["values"]) == sorted([*PUBLIC_SERVICES, "web"])
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
        if expression["key"] == "app.kubernetes.io/component" and expression["operator"] == "In":
            return set(expression["values"])
    return None  # NotIn: any component but those (`_egress_to` reads it)


def test_only_executors_and_the_accounts_api_reach_vault_and_the_internet() -> None:
    docs = render()
    egress = [p for p in find(docs, "NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]]
    for policy in egress:
        rules = policy["spec"].get("egress", [])
        reaches_vault = any({"port": 8200, "protocol": "TCP"} in r["ports"] for r in rules)
        reaches_internet = any("ipBlock" in peer for r in rules for peer in r.get("to", []))
        selected = _components(policy["spec"]["podSelector"])
        # The notifier reaches the internet too, on HTTPS only (its own test below).
        if reaches_vault or (reaches_internet and selected != {"notifier"}):
            assert selected == {"executor", "accounts"}, policy["metadata"]["name"]
    internet = _policy(docs, "executor-egress")
    block = next(
        p["ipBlock"] for r in internet["egress"] for p in r.get("to", []) if "ipBlock" in p
    )
    assert block["cidr"] == "0.0.0.0/0"
    assert "10.0.0.0/8" in block["except"]


@pytest.mark.parametrize("port", [53, 4222, 5432, 6379])
def test_every_pod_but_the_web_app_and_notifier_reaches_dns_nats_postgres_redis(port: int) -> None:
    spec = _policy(render(), "egress-infrastructure")
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "sparky",
        "app.kubernetes.io/instance": "sparky",
    }
    assert spec["podSelector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/component", "operator": "NotIn", "values": ["web", "notifier"]}
    ]
    assert any(p["port"] == port for rule in spec["egress"] for p in rule["ports"])


def _egress_to(docs: list[Doc], component: str) -> list[Doc]:
    """Every egress rule of every policy that selects ``component``'s pods."""
    rules = []
    for policy in find(docs, "NetworkPolicy"):
        spec = policy["spec"]
        selector = spec["podSelector"]
        picked = _components(selector)
        excluded = any(
            e["operator"] == "NotIn" and component in e["values"]
            for e in selector.get("matchExpressions", [])
        )
        if (
            "Egress" in spec["policyTypes"]
            and not excluded
            and (picked is None or component in picked)
        ):
            rules += spec.get("egress", [])
    return rules


def test_the_web_app_reaches_dns_postgres_smtp_and_the_apis_it_calls_only() -> None:
    rules = _egress_to(render([PRODUCTION]), "web")
    ports = {p["port"] for rule in rules for p in rule["ports"]}
    # No NATS, Redis, Vault or internet; 4318: the traces collector (extraEgress, every pod).
    assert ports == {53, 5432, 587, 4318, "http"}
    (to_pods,) = [r for r in rules if r["ports"] == [{"port": "http", "protocol": "TCP"}]]
    (peer,) = to_pods["to"]
    assert _components(peer["podSelector"]) == set(WEB_CALLS)


def test_the_apis_the_web_app_calls_accept_it_and_only_the_ingress_controller_reaches_it() -> None:
    docs = render()
    spec = _policy(docs, "apis-from-web")
    assert _components(spec["podSelector"]) == set(WEB_CALLS)
    (rule,) = spec["ingress"]
    (peer,) = rule["from"]
    assert _components(peer["podSelector"]) == {"web"}
    admitting_web = {
        p["metadata"]["name"]
        for p in find(docs, "NetworkPolicy")
        if "Ingress" in p["spec"]["policyTypes"]
        and p["spec"].get("ingress")
        and (_components(p["spec"]["podSelector"]) or {"web"}) >= {"web"}
    }
    assert admitting_web == {"sparky-from-ingress-controller", "sparky-from-prometheus"}


def test_only_executors_and_the_accounts_api_reach_the_paper_exchange() -> None:
    spec = _policy(render(), "paper-from-executor")
    (rule,) = spec["ingress"]
    (peer,) = rule["from"]
    assert _components(peer["podSelector"]) == {"executor", "accounts"}
    production = render([PRODUCTION])
    assert find(production, "NetworkPolicy", "sparky-paper-from-executor")
    # In production its prices follow Binance's public tickers: the paper pod reaches the
    # internet, and no other pod through that policy.
    source = _policy(production, "paper-price-source")
    assert _components(source["podSelector"]) == {"paper"}


TELEGRAM_WEBHOOK = {
    "services.notifier.telegram.botTokenSecret.name": "sparky-telegram",
    "services.notifier.telegram.botTokenSecret.key": "bot-token",
    "services.notifier.telegram.botUsername": "SparkyBot",
    "services.notifier.telegram.mode": "webhook",
    "services.notifier.telegram.webhookSecretSecret.name": "sparky-telegram",
    "services.notifier.telegram.webhookSecretSecret.key": "webhook-secret",
}


def test_the_notifier_reaches_dns_nats_postgres_smtp_https_and_the_apis_it_calls_only() -> None:
    rules = _egress_to(render([PRODUCTION]), "notifier")
    ports = {p["port"] for rule in rules for p in rule["ports"]}
    # No Redis, no Vault; 443: Telegram, Discord, traders' webhooks; 4318: traces (extraEgress).
    assert ports == {53, 4222, 5432, 587, 443, 4318, "http"}
    (internet,) = [
        r
        for r in rules
        if any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in r.get("to", []))
    ]
    assert internet["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in internet["to"][0]["ipBlock"]["except"]  # never the cluster's pods
    (to_pods,) = [r for r in rules if r["ports"] == [{"port": "http", "protocol": "TCP"}]]
    (peer,) = to_pods["to"]
    assert _components(peer["podSelector"]) == set(NOTIFIER_CALLS)


def test_the_apis_the_notifier_calls_accept_it_and_the_web_app_reaches_it() -> None:
    docs = render()
    spec = _policy(docs, "apis-from-notifier")
    assert _components(spec["podSelector"]) == set(NOTIFIER_CALLS)
    (rule,) = spec["ingress"]
    (peer,) = rule["from"]
    assert _components(peer["podSelector"]) == {"notifier"}
    assert "notifier" in (_components(_policy(docs, "apis-from-web")["podSelector"]) or set())


def _admitting(docs: list[Doc], component: str) -> set[str]:
    return {
        p["metadata"]["name"]
        for p in find(docs, "NetworkPolicy")
        if "Ingress" in p["spec"]["policyTypes"]
        and p["spec"].get("ingress")
        and (_components(p["spec"]["podSelector"]) or {component}) >= {component}
    }


def test_the_ingress_controller_reaches_the_notifier_only_for_telegrams_webhook() -> None:
    polling = render()
    assert _admitting(polling, "notifier") == {"sparky-from-prometheus", "sparky-apis-from-web"}
    assert "/telegram/webhook" not in _ingress_paths(polling)
    webhook = render(sets=TELEGRAM_WEBHOOK)
    assert _admitting(webhook, "notifier") == {
        "sparky-from-prometheus",
        "sparky-apis-from-web",
        "sparky-from-ingress-controller",
    }
    assert _ingress_paths(webhook)["/telegram/webhook"] == ("Exact", "notifier")
