"""Venue differences as data, clients configured per mode, replicas from pod names."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.config import Environment
from libs.common.errors import ConfigurationError
from libs.common.messages import AccountMode
from services.executor.adapters.clients import ClientSettings, client_config, new_client
from services.executor.adapters.credentials import Credentials
from services.executor.adapters.venues import VENUES, supported_exchanges, venue_for
from services.executor.config import ExecutorSettings
from tests.helpers.signing import verify_key_settings

KEYS = Credentials(api_key="k" * 16, secret="s" * 16, passphrase="p" * 8)
CLIENTS = ClientSettings(paper_url="http://paper:8106/", timeout_ms=1234)


def test_binance_looks_orders_up_by_orig_client_order_id() -> None:
    binance = venue_for("binance")
    assert binance is not None
    assert binance.lookup("sp1") == {"origClientOrderId": "sp1"}
    assert binance.create("sp1") == {"clientOrderId": "sp1"}
    assert venue_for("nope") is None


def test_only_the_venue_the_paper_exchange_imitates_takes_paper_accounts() -> None:
    assert supported_exchanges(AccountMode.PAPER) == ["binance"]
    assert set(supported_exchanges(AccountMode.LIVE)) == set(VENUES)


def test_a_paper_client_points_at_the_paper_exchange_with_its_keys() -> None:
    config = client_config(VENUES["binance"], AccountMode.PAPER, CLIENTS, KEYS)
    assert config["urls"]["api"] == {
        "public": "http://paper:8106/api/v3",
        "private": "http://paper:8106/api/v3",
    }
    assert config["options"]["fetchCurrencies"] is False
    assert config["enableRateLimit"] is True
    assert config["timeout"] == 1234
    assert (config["apiKey"], config["password"]) == ("k" * 16, "p" * 8)


def test_a_testnet_client_is_in_sandbox_mode_and_a_reference_client_has_no_keys() -> None:
    client = new_client(VENUES["binance"], AccountMode.TESTNET, CLIENTS, None)
    assert client.isSandboxModeEnabled
    assert not client.apiKey


@pytest.mark.parametrize(("host", "index"), [("executor-0", 0), ("sparky-executor-3", 3)])
def test_the_replica_index_comes_from_the_statefulset_pod_name(host: str, index: int) -> None:
    settings = ExecutorSettings(replica_count=4, replica_index_from_hostname=host)
    assert settings.effective_replica_index == index


def test_a_pod_name_without_an_ordinal_or_beyond_the_count_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ending in -N"):
        ExecutorSettings(replica_index_from_hostname="executor")
    with pytest.raises(ConfigurationError, match="does not exist"):
        ExecutorSettings(replica_count=2, replica_index_from_hostname="executor-2")


def test_production_refuses_a_vault_url_in_clear() -> None:
    keys: dict[str, Any] = verify_key_settings()  # production keys, so only the URL is wrong
    with pytest.raises(ConfigurationError, match="vault_url must be https:// in production"):
        ExecutorSettings(environment=Environment.PROD, vault_url="http://vault:8200", **keys)
    ok = ExecutorSettings(environment=Environment.PROD, vault_url="https://vault:8200", **keys)
    assert ok.vault_url == "https://vault:8200"
