"""PnL totals per account and currency: realized, fees and funding over the days asked for,
and the unrealized PnL of what is open now at its last mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.ledger.api.schemas import PnlTotalOut
from services.ledger.api.views import open_pnl
from services.ledger.domain.positions import EXACT, UNKNOWN_CURRENCY, ZERO

Row = Mapping[Any, Any]
Key = tuple[str, str]  # account, currency


@dataclass
class _Sum:
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    unrealized: Decimal = ZERO


@dataclass
class Totals:
    """Sums by account and currency."""

    sums: dict[Key, _Sum] = field(default_factory=dict)

    @classmethod
    def of(cls, days: Iterable[Row], marked: Iterable[Row]) -> Totals:
        """Total the summed days (account, currency, realized_pnl, fees, funding) and the
        marked open positions (their unrealized PnL, in their quote currency)."""
        totals = cls()
        for row in days:
            entry = totals._at((row["account_label"], row["currency"]))
            entry.realized = EXACT.add(entry.realized, row["realized_pnl"])
            entry.fees = EXACT.add(entry.fees, row["fees"])
            entry.funding = EXACT.add(entry.funding, row["funding"])
        for row in marked:
            pnl = open_pnl(row)
            if pnl is None:
                continue
            entry = totals._at((row["account_label"], row["quote"] or UNKNOWN_CURRENCY))
            entry.unrealized = EXACT.add(entry.unrealized, pnl)
        return totals

    def _at(self, key: Key) -> _Sum:
        return self.sums.setdefault(key, _Sum())

    def out(self, *, currency: str | None = None) -> list[PnlTotalOut]:
        """Return the totals by account and currency (only ``currency``'s when given)."""
        wanted = currency.upper() if currency is not None else None
        return [
            PnlTotalOut(
                account=account,
                currency=code,
                realized_pnl=entry.realized,
                fees=entry.fees,
                funding=entry.funding,
                unrealized_pnl=entry.unrealized,
                total=EXACT.add(EXACT.add(entry.realized, entry.funding), entry.unrealized),
            )
            for (account, code), entry in sorted(self.sums.items())
            if wanted is None or code == wanted
        ]
