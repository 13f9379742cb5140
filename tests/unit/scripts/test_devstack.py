"""devstack's development tokens are the services' own defaults, and its plan of each service."""

from __future__ import annotations

from pathlib import Path

from libs.common import signing
from scripts.devstack import (
    DEV_LEDGER_ORDER_KEY,
    DEV_NOTIFIER_DATA_KEY,
    DEV_OPERATOR_TOKEN,
    DEV_PAPER_ADMIN_TOKEN,
    DEV_ROUTER_ORDER_KEY,
    DEV_SIGNUP_TOKEN,
    DEV_WEB_DATA_KEY,
    Infra,
    StackConfig,
    service_env,
)
from scripts.run import run_config
from services.billing.config import DEV_OPERATOR_TOKEN as BILLING_DEFAULT
from services.billing.config import BillingSettings
from services.executor.config import ExecutorSettings
from services.ledger.config import LedgerSettings
from services.notifier.config import NotifierSettings
from services.paper.config import DEV_ADMIN_TOKEN as PAPER_DEFAULT
from services.paper.config import PaperSettings
from services.router.config import RouterSettings
from services.web.config import WebSettings


def test_operator_token_is_billings_development_default() -> None:
    assert DEV_OPERATOR_TOKEN == BILLING_DEFAULT
    assert BillingSettings().operator_token.get_secret_value() == DEV_OPERATOR_TOKEN


def test_paper_admin_token_is_the_paper_exchanges_development_default() -> None:
    assert DEV_PAPER_ADMIN_TOKEN == PAPER_DEFAULT
    assert PaperSettings().admin_token.get_secret_value() == DEV_PAPER_ADMIN_TOKEN


def test_signup_token_and_data_key_are_billings_and_the_web_apps_development_defaults() -> None:
    web = WebSettings()
    billing = BillingSettings().signup_token
    assert billing is not None
    assert billing.get_secret_value() == DEV_SIGNUP_TOKEN
    assert web.signup_token.get_secret_value() == DEV_SIGNUP_TOKEN
    assert web.data_key.get_secret_value() == DEV_WEB_DATA_KEY


def test_the_notifiers_data_key_is_its_development_default() -> None:
    assert NotifierSettings().data_key.get_secret_value() == DEV_NOTIFIER_DATA_KEY


def test_services_are_given_the_stacks_tokens(tmp_path: Path) -> None:
    cfg = StackConfig(infra=Infra(), data_dir=tmp_path)
    assert service_env("billing", cfg)["SPARKY_BILLING_OPERATOR_TOKEN"] == DEV_OPERATOR_TOKEN
    assert service_env("paper", cfg)["SPARKY_PAPER_ADMIN_TOKEN"] == DEV_PAPER_ADMIN_TOKEN


def test_order_signing_keys_are_the_services_development_defaults() -> None:
    assert DEV_ROUTER_ORDER_KEY == signing.DEV_ROUTER_ORDER_KEY
    assert DEV_LEDGER_ORDER_KEY == signing.DEV_LEDGER_ORDER_KEY
    assert RouterSettings().order_signing_key.get_secret_value() == DEV_ROUTER_ORDER_KEY
    assert LedgerSettings().order_signing_key.get_secret_value() == DEV_LEDGER_ORDER_KEY
    executor = ExecutorSettings()
    assert executor.order_verify_key_router.get_secret_value() == DEV_ROUTER_ORDER_KEY
    assert executor.order_verify_key_ledger.get_secret_value() == DEV_LEDGER_ORDER_KEY


def test_each_issuers_key_goes_to_it_and_to_the_executor_only(tmp_path: Path) -> None:
    router_key, ledger_key = "r" * 40, "l" * 40
    cfg = StackConfig(
        infra=Infra(), data_dir=tmp_path, router_order_key=router_key, ledger_order_key=ledger_key
    )
    envs = {name: service_env(name, cfg) for name in ("billing", "ingress", "paper")}
    assert not any(
        router_key in v or ledger_key in v for env in envs.values() for v in env.values()
    )
    assert service_env("router", cfg)["SPARKY_ROUTER_ORDER_SIGNING_KEY"] == router_key
    assert service_env("ledger", cfg)["SPARKY_LEDGER_ORDER_SIGNING_KEY"] == ledger_key
    verifying = service_env("executor", cfg)
    assert verifying["SPARKY_EXECUTOR_ORDER_VERIFY_KEY_ROUTER"] == router_key
    assert verifying["SPARKY_EXECUTOR_ORDER_VERIFY_KEY_LEDGER"] == ledger_key
    assert ledger_key not in service_env("router", cfg).values()
    assert router_key not in service_env("ledger", cfg).values()


def test_executor_keeps_keys_under_one_prefix_it_adds_the_namespace_to(tmp_path: Path) -> None:
    cfg = StackConfig(infra=Infra(vault_token="t"), namespace="demo", data_dir=tmp_path)
    env = service_env("executor", cfg)
    assert env["SPARKY_EXECUTOR_VAULT_PREFIX"] == "sparky"
    assert env["SPARKY_NAMESPACE"] == "demo"


def test_the_exchange_accounts_api_runs_as_its_own_executor_process(tmp_path: Path) -> None:
    cfg = StackConfig(infra=Infra(vault_token="t"), namespace="demo", data_dir=tmp_path)
    trading, accounts = service_env("executor", cfg), service_env("accounts", cfg)
    assert (trading["SPARKY_EXECUTOR_ROLE"], accounts["SPARKY_EXECUTOR_ROLE"]) == (
        "trading",
        "accounts",
    )
    assert accounts["SPARKY_EXECUTOR_DATABASE_SCHEMA"] == trading["SPARKY_EXECUTOR_DATABASE_SCHEMA"]
    assert accounts["SPARKY_EXECUTOR_HTTP_PORT"] != trading["SPARKY_EXECUTOR_HTTP_PORT"]
    assert not [name for name in accounts if name.startswith("SPARKY_ACCOUNTS_")]


def test_the_web_app_gets_billings_signup_token_its_apis_and_the_mailbox(tmp_path: Path) -> None:
    cfg = StackConfig(
        infra=Infra(nats_passwords={"billing": "b", "admin": "a"}),
        data_dir=tmp_path,
        signup_token="ssu_" + "s" * 30,
        smtp_port=2525,
    )
    web, billing = service_env("web", cfg), service_env("billing", cfg)
    assert (
        web["SPARKY_WEB_SIGNUP_TOKEN"] == billing["SPARKY_BILLING_SIGNUP_TOKEN"] == cfg.signup_token
    )
    assert web["SPARKY_WEB_WEBHOOK_BASE_URL"] == cfg.url("ingress")
    assert web["SPARKY_WEB_PUBLIC_URL"] == cfg.url("web") == "http://127.0.0.1:8108"
    for name in ("billing", "router", "ledger", "accounts", "ingress"):
        assert web[f"SPARKY_WEB_{name.upper()}_URL"] == cfg.url(name)
    assert (web["SPARKY_WEB_SMTP_HOST"], web["SPARKY_WEB_SMTP_PORT"]) == ("127.0.0.1", "2525")
    assert web["SPARKY_WEB_DATABASE_SCHEMA"] == "web"
    assert "SPARKY_NATS_USER" not in web  # it calls the APIs only
    assert cfg.signup_token not in service_env("router", cfg).values()
    accounts = service_env("accounts", cfg)
    assert accounts["SPARKY_EXECUTOR_PAPER_ADMIN_TOKEN"] == cfg.paper_admin_token
    assert "SPARKY_EXECUTOR_PAPER_ADMIN_TOKEN" not in service_env("executor", cfg)


def test_the_notifier_gets_its_apis_data_key_and_the_mailbox_but_no_bot_token(
    tmp_path: Path,
) -> None:
    cfg = StackConfig(
        infra=Infra(nats_passwords={"notifier": "n", "admin": "a"}),
        data_dir=tmp_path,
        notifier_data_key="d" * 40,
        smtp_port=2525,
    )
    env = service_env("notifier", cfg)
    assert env["SPARKY_NOTIFIER_HTTP_PORT"] == "8109"
    assert env["SPARKY_NOTIFIER_DATABASE_SCHEMA"] == "notifier"
    assert env["SPARKY_NOTIFIER_DATA_KEY"] == "d" * 40
    for name in ("billing", "router", "ledger", "ingress", "accounts"):
        assert env[f"SPARKY_NOTIFIER_{name.upper()}_URL"] == cfg.url(name)
    assert (env["SPARKY_NOTIFIER_SMTP_HOST"], env["SPARKY_NOTIFIER_SMTP_PORT"]) == (
        "127.0.0.1",
        "2525",
    )
    assert env["SPARKY_NOTIFIER_SMTP_SECURITY"] == "none"
    assert (env["SPARKY_NATS_USER"], env["SPARKY_NATS_PASSWORD"]) == ("notifier", "n")
    # Telegram stays off until configured; the data key is the notifier's alone.
    assert not [name for name in env if "TELEGRAM" in name]
    assert "d" * 40 not in service_env("web", cfg).values()
    assert service_env("web", cfg)["SPARKY_WEB_NOTIFIER_URL"] == cfg.url("notifier")


def test_make_run_passes_the_telegram_settings_to_the_notifier_alone(tmp_path: Path) -> None:
    rc = run_config({"SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN": "123:abc", "SPARKY_OTHER": "x"})
    assert rc.notifier == {"TELEGRAM_BOT_TOKEN": "123:abc"}
    cfg = StackConfig(infra=Infra(), data_dir=tmp_path, extra_env={"notifier": rc.notifier})
    assert service_env("notifier", cfg)["SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN"] == "123:abc"
    assert "123:abc" not in service_env("web", cfg).values()
    assert run_config({}).notifier == {}
