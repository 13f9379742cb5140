"""What `make run` reads from its environment, and the commands it prints."""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

import pytest

from scripts.demo import DemoTenant
from scripts.devstack import DEFAULT_PORTS, ROOT, Infra, StackConfig
from scripts.run import DEMO_ALERT, check_ports_free, curl_commands, run_config, run_environ

DEMO = DemoTenant(
    tenant_id="01TENANT",
    webhook_id="01HOOK",
    webhook_token="whk_it's-a-token",  # a quote, to prove the shell quoting
    api_key="spk_key",
)


def test_defaults_are_the_standard_local_servers_and_the_devstack_folder() -> None:
    rc = run_config({})
    assert rc.namespace == "sparky"
    assert rc.data_dir == ROOT / ".devstack"
    defaults = Infra()
    assert dict(rc.urls) == {
        "NATS": defaults.nats_url,
        "Postgres": "postgresql://postgres@127.0.0.1:5432/sparky",
        "Redis": defaults.redis_url,
        "Vault": "http://127.0.0.1:8200",
    }
    assert dict(rc.ports) == dict(DEFAULT_PORTS)


def test_environment_moves_servers_folder_namespace_and_service_ports(tmp_path: Path) -> None:
    rc = run_config(
        {
            "SPARKY_NAMESPACE": "demo2",
            "SPARKY_DEVSTACK_DIR": str(tmp_path),
            "SPARKY_NATS_URL": "nats://127.0.0.1:14222",
            "SPARKY_DATABASE_URL": "postgresql://postgres@127.0.0.1:15432/other",
            "SPARKY_VAULT_URL": "http://127.0.0.1:18200",
            "SPARKY_VAULT_TOKEN": "root",
            "SPARKY_LEDGER_HTTP_PORT": "18105",
        }
    )
    assert (rc.namespace, rc.data_dir, rc.vault_token) == ("demo2", tmp_path, "root")
    assert rc.urls["NATS"] == "nats://127.0.0.1:14222"
    assert rc.urls["Postgres"].endswith(":15432/other")
    assert rc.ports["ledger"] == 18105
    assert rc.ports["billing"] == DEFAULT_PORTS["billing"]


def test_a_run_asked_for_by_run_environ_is_read_back_unchanged(tmp_path: Path) -> None:
    rc = run_config(
        {
            "SPARKY_NAMESPACE": "demo3",
            "SPARKY_DEVSTACK_DIR": str(tmp_path),
            "SPARKY_REDIS_URL": "redis://127.0.0.1:16379/0",
            "SPARKY_VAULT_TOKEN": "root",
            "SPARKY_WEB_HTTP_PORT": "18108",
            "SPARKY_NOTIFIER_TELEGRAM_MODE": "webhook",
        }
    )
    assert run_config(run_environ(rc)) == rc


def test_printed_alert_command_posts_the_demo_alert_to_the_webhook(tmp_path: Path) -> None:
    cfg = StackConfig(infra=Infra(), data_dir=tmp_path)
    alert, _ = curl_commands(cfg, DEMO)
    words = shlex.split(alert)
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    assert words[4] == f"http://127.0.0.1:{DEFAULT_PORTS['ingress']}/webhooks/tv/whk_it's-a-token"
    assert json.loads(words[words.index("-d") + 1]) == DEMO_ALERT
    assert DEMO_ALERT["ticker"] == "BINANCE:BTCUSDT"


def test_printed_position_command_reads_the_ledger_with_the_api_key(tmp_path: Path) -> None:
    cfg = StackConfig(infra=Infra(), data_dir=tmp_path, ports={**DEFAULT_PORTS, "ledger": 9105})
    _, positions = curl_commands(cfg, DEMO)
    words = shlex.split(positions)
    assert words[-1] == "http://127.0.0.1:9105/api/v1/positions"
    assert words[words.index("-H") + 1] == "Authorization: Bearer spk_key"


def test_a_taken_service_port_is_refused_with_the_variable_to_set() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(SystemExit, match=rf"Port {port}, where router .*ROUTER_HTTP_PORT"):
            check_ports_free({"router": port})
