"""Settings that cannot work stop the exchange at start-up with a reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.common.config import load_settings
from libs.common.errors import ConfigurationError
from services.paper.config import PaperSettings
from services.paper.runtime import build_exchange
from services.paper.store.database import Store


async def _exchange_with(tmp_path: Path, prices: dict[str, Decimal]) -> Decimal:
    settings = load_settings(PaperSettings, state_path=tmp_path / "s.db", prices=prices)
    store = await Store.open(settings.state_path)
    try:
        exchange = await build_exchange(settings, store, lambda: 0)
        return exchange.price("BTCUSDT")
    finally:
        await store.close()


async def test_a_configured_price_holds_the_market_there(tmp_path: Path) -> None:
    assert await _exchange_with(tmp_path, {"BTCUSDT": Decimal("42000.5")}) == Decimal("42000.5")


@pytest.mark.parametrize(
    ("prices", "named"),
    [({"BTCUSDT": Decimal("1.001")}, "BTCUSDT"), ({"NOPE": Decimal(1)}, "NOPE")],
)
async def test_a_configured_price_that_cannot_trade_is_refused(
    tmp_path: Path, prices: dict[str, Decimal], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        await _exchange_with(tmp_path, prices)


def test_production_refuses_the_development_admin_token() -> None:
    with pytest.raises((ConfigurationError, ValidationError), match="admin_token"):
        load_settings(PaperSettings, environment="prod")


async def test_the_state_file_holding_secrets_is_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "new" / "state.db")
    await store.close()
    assert (tmp_path / "new" / "state.db").stat().st_mode & 0o777 == 0o600
