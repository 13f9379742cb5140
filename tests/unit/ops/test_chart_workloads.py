"""What the chart runs: one workload per service, safely, with probes, partitions and hooks."""

from __future__ import annotations

import pytest

from libs.common.db_roles import SERVICE_ROLES, role_name
from tests.unit.ops.chart import (
    COMPONENTS,
    DATABASE_SERVICES,
    PRODUCTION,
    container,
    env_of,
    find,
    one,
    pod_specs,
    program,
    render,
    render_error,
    workload,
)


def test_every_service_runs_its_own_image_and_module() -> None:
    docs = render()
    for service in COMPONENTS:
        spec = container(docs, service)
        assert spec["image"] == f"registry.example.com/sparky-{program(service)}:0.1.0"
        assert spec["command"] == ["python", "-m", f"services.{program(service)}"]
        assert spec["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_router_and_executor_are_statefulsets_that_know_their_share_of_partitions() -> None:
    docs = render(sets={"services.router.replicas": "3", "services.executor.replicas": "5"})
    router = env_of(container(docs, "router"))
    executor = env_of(container(docs, "executor"))
    assert workload(docs, "router")["kind"] == "StatefulSet"
    assert workload(docs, "router")["spec"]["replicas"] == 3
    assert router["SPARKY_ROUTER_REPLICA_COUNT"]["value"] == "3"
    assert router["SPARKY_ROUTER_REPLICA_INDEX_FROM_HOSTNAME"]["value"] == "true"
    assert workload(docs, "executor")["spec"]["replicas"] == 5
    assert executor["SPARKY_EXECUTOR_REPLICA_COUNT"]["value"] == "5"
    # The pod's own name (executor-3): its ordinal is the replica index.
    assert executor["SPARKY_EXECUTOR_REPLICA_INDEX_FROM_HOSTNAME"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.name"}
    }
    for service in ("router", "executor"):
        sts = workload(docs, service)
        assert sts["spec"]["serviceName"] == f"sparky-{service}-headless"
        one(docs, "Service", f"sparky-{service}-headless")


def test_other_services_are_deployments_and_ingress_is_autoscaled() -> None:
    docs = render()
    for service in ("ingress", "accounts", "ledger", "billing", "paper", "web", "notifier"):
        assert workload(docs, service)["kind"] == "Deployment"
    assert "replicas" not in workload(docs, "ingress")["spec"]  # the HPA owns it
    hpa = one(docs, "HorizontalPodAutoscaler", "sparky-ingress")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "sparky-ingress",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    fixed = render(sets={"services.ingress.autoscaling.enabled": "false"})
    assert not find(fixed, "HorizontalPodAutoscaler")
    assert workload(fixed, "ingress")["spec"]["replicas"] == 2


def test_paper_exchange_is_one_pod_replaced_never_doubled() -> None:
    paper = workload(render(), "paper")
    assert paper["spec"]["replicas"] == 1
    assert paper["spec"]["strategy"] == {"type": "Recreate"}


def test_every_pod_runs_unprivileged_with_a_read_only_root() -> None:
    for name, spec in pod_specs(render()):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        for c in spec["containers"]:
            security = c["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert c["resources"]["requests"], name
            assert c["resources"]["limits"], name


def test_only_the_two_vault_identities_get_a_service_account_token_each_its_own() -> None:
    docs = render()
    mounted = {name for name, spec in pod_specs(docs) if spec.get("automountServiceAccountToken")}
    assert mounted == {"sparky-executor", "sparky-accounts"}
    for name, spec in pod_specs(docs):
        if not name.endswith("-migrate"):  # a Job: the namespace's default account, no token
            assert spec["serviceAccountName"] == name, name  # never another workload's account
    roles = {}
    for name in mounted:
        annotations = one(docs, "ServiceAccount", name)["metadata"]["annotations"]
        assert annotations["vault.hashicorp.com/auth-path"] == "auth/kubernetes"
        roles[name] = annotations["vault.hashicorp.com/role"]
        assert "sparky.dev/vault-write-role" not in annotations  # one identity per account
    assert roles == {"sparky-executor": "sparky-executor", "sparky-accounts": "sparky-executor-api"}


def test_the_accounts_api_runs_the_executors_image_and_database_credentials() -> None:
    digest = "sha256:" + "b" * 64
    docs = render(sets={"services.executor.image.digest": digest})
    expected = f"registry.example.com/sparky-executor@{digest}"
    assert container(docs, "accounts")["image"] == container(docs, "executor")["image"] == expected
    production = render([PRODUCTION])
    accounts, executor = (
        env_of(container(production, "accounts")),
        env_of(container(production, "executor")),
    )
    assert accounts["SPARKY_DATABASE_URL"] == executor["SPARKY_DATABASE_URL"]
    assert workload(production, "accounts")["spec"]["replicas"] == 2


def test_probes_ask_healthz_for_liveness_and_readyz_for_readiness() -> None:
    docs = render()
    for service in COMPONENTS:
        spec = container(docs, service)
        assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_each_schema_is_migrated_by_a_hook_job_before_install_and_upgrade() -> None:
    jobs = find(render(), "Job")
    assert sorted(j["metadata"]["name"] for j in jobs) == sorted(
        f"sparky-{s}-migrate" for s in DATABASE_SERVICES
    )
    for job in jobs:
        service = job["metadata"]["name"].removeprefix("sparky-").removesuffix("-migrate")
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        spec = job["spec"]["template"]["spec"]
        (migrate,) = spec["containers"]
        assert migrate["image"] == f"registry.example.com/sparky-{service}:0.1.0"
        assert migrate["command"] == [
            "python",
            "-m",
            "libs.common.db",
            f"services/{service}/migrations",
            "$(SPARKY_MIGRATION_DATABASE_URL)",
            service,
            *(
                f"{kind}_role={role_name('sparky', service, kind)}"
                for kind in SERVICE_ROLES[service]
            ),
        ]
        assert env_of(migrate)["SPARKY_MIGRATION_DATABASE_URL"]["valueFrom"] == {
            "secretKeyRef": {"name": "sparky-postgres-migrations", "key": "url"}
        }
        assert spec["restartPolicy"] == "Never"


def test_services_run_as_the_runtime_login_with_the_roles_the_jobs_granted_to() -> None:
    sets = {
        "postgres.rolePrefix": "staging",
        "services.router.databaseRoles.reader": "custom_reader",
    }
    docs = render(sets=sets)
    for service in DATABASE_SERVICES:
        env = env_of(container(docs, service))
        job = one(docs, "Job", f"sparky-{service}-migrate")
        (migrate,) = job["spec"]["template"]["spec"]["containers"]
        granted = dict(arg.split("=", 1) for arg in migrate["command"][6:])
        used = {
            f"{kind}_role": env[f"SPARKY_{service.upper()}_{kind.upper()}_ROLE"]["value"]
            for kind in SERVICE_ROLES[service]
        }
        assert used == granted
        assert env["SPARKY_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "sparky-postgres"
        assert "SPARKY_MIGRATION_DATABASE_URL" not in env  # the pods never see the owner's login
        assert env["SPARKY_MIGRATE_ON_START"]["value"] == "false"
    router = env_of(container(docs, "router"))
    assert router["SPARKY_ROUTER_READER_ROLE"]["value"] == "custom_reader"
    assert router["SPARKY_ROUTER_WRITER_ROLE"]["value"] == "staging_router_writer"


def test_every_enabled_service_has_a_disruption_budget() -> None:
    docs = render()
    budgets = {d["metadata"]["name"] for d in find(docs, "PodDisruptionBudget")}
    # The single-pod ones (paper, notifier) have none: a budget could not keep any pod up.
    assert budgets == {f"sparky-{s}" for s in COMPONENTS if s not in ("paper", "notifier")}


def test_production_example_offers_paper_accounts_at_the_real_markets_prices() -> None:
    docs = render([PRODUCTION])
    paper = env_of(container(docs, "paper"))
    assert paper["SPARKY_PAPER_PRICE_SOURCE"]["value"] == "ccxt:binance"
    assert "SPARKY_EXECUTOR_PAPER_EXCHANGE_URL" in env_of(container(docs, "executor"))
    assert "SPARKY_EXECUTOR_PAPER_ADMIN_TOKEN" in env_of(container(docs, "accounts"))
    volumes = workload(docs, "paper")["spec"]["template"]["spec"]["volumes"]
    claims = [
        v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
    ]
    assert claims == ["sparky-paper-state"]
    assert container(docs, "router")["image"] == (
        "registry.example.com/trading/sparky-router:0.1.0"
    )


@pytest.mark.parametrize("service", ["ingress", "router"])
def test_an_image_digest_pins_a_service(service: str) -> None:
    digest = "sha256:" + "a" * 64
    docs = render(sets={f"services.{service}.image.digest": digest})
    assert container(docs, service)["image"] == f"registry.example.com/sparky-{service}@{digest}"


def test_the_notifier_is_one_pod_replaced_never_doubled_for_the_bots_single_long_poll() -> None:
    notifier = workload(render(), "notifier")
    assert notifier["spec"]["replicas"] == 1
    assert notifier["spec"]["strategy"] == {"type": "Recreate"}
    error = render_error({"services.notifier.replicas": "2"})
    assert "services.notifier.replicas" in error


def test_telegram_is_off_until_a_bot_token_is_given_and_its_secrets_come_from_secrets() -> None:
    off = env_of(container(render(), "notifier"))
    assert not [name for name in off if "TELEGRAM" in name]
    assert off["SPARKY_NOTIFIER_DATA_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "sparky-notifier", "key": "data-key"}
    }
    sets = {
        "services.notifier.telegram.botTokenSecret.name": "sparky-telegram",
        "services.notifier.telegram.botTokenSecret.key": "bot-token",
        "services.notifier.telegram.botUsername": "SparkyBot",
    }
    on = env_of(container(render(sets=sets), "notifier"))
    assert on["SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "sparky-telegram", "key": "bot-token"}
    }
    assert on["SPARKY_NOTIFIER_TELEGRAM_MODE"]["value"] == "polling"
    assert "SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_SECRET" not in on
    webhook = sets | {
        "services.notifier.telegram.mode": "webhook",
        "services.notifier.telegram.webhookSecretSecret.name": "sparky-telegram",
        "services.notifier.telegram.webhookSecretSecret.key": "webhook-secret",
    }
    hooked = env_of(container(render(sets=webhook), "notifier"))
    # Telegram is told to post to the API host's /telegram/webhook, which the Ingress routes.
    assert hooked["SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_URL"]["value"] == "https://sparky.example.com"
    assert hooked["SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "sparky-telegram", "key": "webhook-secret"}
    }
    # Webhook mode without the secret Telegram must present is refused before install.
    assert "webhookSecretSecret" in render_error(
        sets | {"services.notifier.telegram.mode": "webhook"}
    )
    assert "botUsername" in render_error({k: v for k, v in sets.items() if "botUsername" not in k})
