"""Which tenant sends a phase's alert *i*, and what it says: the bench's load mixes.

- plain (the default): round-robin over the tenants, each trading one symbol (even tenants
  BTC, odd ones ETH), buys and sells alternating per round;
- ``closes``: each tenant's symbol gets buy, buy, close (no quantity: sell all the strategy
  holds, so the executor reads the balance and the position), over and over;
- ``hot_share``: that share of the alerts comes from tenant 0, the hot tenant, spread over
  every USDT market the paper exchange lists; the others go round-robin over the rest.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

# The paper exchange's USDT markets (services/paper/markets.py) and an order size above
# each one's minimum notional at its reference price.
HOT_SYMBOLS = {
    "BTCUSDT": "0.001",
    "ETHUSDT": "0.01",
    "BNBUSDT": "0.05",
    "SOLUSDT": "0.2",
    "XRPUSDT": "50",
    "DOGEUSDT": "200",
}
PLAIN = (("BTCUSDT", "0.001"), ("ETHUSDT", "0.01"))
HOT = 0  # the hot tenant's index


@dataclass(frozen=True, slots=True)
class Mix:
    """How a phase's alerts are spread over ``tenants`` tenants."""

    tenants: int
    hot_share: float = 0.0
    closes: bool = False

    def tenant_of(self, i: int) -> int:
        """The index of the tenant that sends alert ``i``."""
        if not self._hot_on:
            return i % self.tenants
        if self._is_hot(i):
            return HOT
        return 1 + self._cold_index(i) % (self.tenants - 1)

    def alert(self, i: int, run: str) -> tuple[int, bytes]:
        """Alert ``i`` of run ``run``: its tenant's index and the body TradingView sends."""
        tenant = self.tenant_of(i)
        if self._hot_on and tenant == HOT:
            nth = math.floor(i * self.hot_share)  # the hot tenant's own count
            symbol = list(HOT_SYMBOLS)[nth % len(HOT_SYMBOLS)]
            qty, turn = HOT_SYMBOLS[symbol], nth // len(HOT_SYMBOLS)
        else:
            cold = self._cold_index(i) if self._hot_on else i
            symbol, qty = PLAIN[tenant % 2]
            turn = cold // (self.tenants - 1 if self._hot_on else self.tenants)
        alert = {"action": self._action(turn), "ticker": f"BINANCE:{symbol}", "id": f"{run}-{i}"}
        if alert["action"] != "close":
            alert["qty"] = qty
        return tenant, json.dumps(alert, separators=(",", ":")).encode()

    def _action(self, turn: int) -> str:
        """The action of a tenant's symbol's ``turn``-th alert."""
        if self.closes:
            return "close" if turn % 3 == 2 else "buy"
        return "buy" if turn % 2 == 0 else "sell"

    @property
    def _hot_on(self) -> bool:
        return self.hot_share > 0 and self.tenants > 1

    def _is_hot(self, i: int) -> bool:
        # Alert i is hot when the running count of hot alerts, i * share, steps up at it.
        return math.floor((i + 1) * self.hot_share) > math.floor(i * self.hot_share)

    def _cold_index(self, i: int) -> int:
        """How many other tenants' alerts came before alert ``i``."""
        return i - math.floor(i * self.hot_share)
