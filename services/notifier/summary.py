"""The daily summary by email: once a day per tenant with a summary-enabled email channel,
yesterday's fills, realized PnL and rejected alerts, read from the ledger with the tenant key
the notifier holds.

Exactly once per channel and day for the same reason as events: the summary is a delivery
whose event id is ``daily.summary:<tenant>:<day>``. A tenant whose figures cannot be read now
(the ledger away, no kept key) is tried again at the next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from services.notifier.domain.notices import Notice
from services.notifier.runtime import Runtime
from services.notifier.store import channels as store
from services.notifier.store.deliveries import delivery_row, enqueue
from services.notifier.store.tables import channels, deliveries

log = logging.getLogger(__name__)
KIND = "daily.summary"


def summary_event_id(tenant_id: str, day: date) -> str:
    return f"{KIND}:{tenant_id}:{day.isoformat()}"


@dataclass(frozen=True, slots=True)
class DayFigures:
    fills: int
    pnl: tuple[tuple[str, Decimal], ...]  # (currency, realized PnL)
    rejected: int
    rejected_more: bool


def summary_notice(tenant_id: str, day: date, figures: DayFigures, at: datetime) -> Notice:
    """Return the summary of ``day`` (pure)."""
    pnl = ", ".join(f"{amount:+f} {currency}" for currency, amount in figures.pnl) or "none"
    rejected = f"{figures.rejected}{'+' if figures.rejected_more else ''}"
    return Notice(
        event_id=summary_event_id(tenant_id, day),
        tenant_id=tenant_id,
        kind=KIND,
        occurred_at=at,
        title=f"Daily summary for {day.isoformat()}",
        summary=f"{figures.fills} fills, realized PnL {pnl}, {rejected} rejected alerts",
        short=day.isoformat(),
        facts=(("Fills", str(figures.fills)), ("Realized PnL", pnl), ("Rejected", rejected)),
        data={
            "day": day.isoformat(),
            "fills": figures.fills,
            "realized_pnl": {c: str(a) for c, a in figures.pnl},
            "rejected": figures.rejected,
        },
    )


class Summaries:
    """Queue each day's summaries once the day is over (and ``summary_hour_utc`` reached)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the database away: next poll
                log.exception("daily summaries failed")
            await asyncio.sleep(self._rt.settings.summary_poll_s)

    async def run_once(self) -> int:
        """Queue the summaries due now; return how many channels got one."""
        now = self._rt.clock()
        if now.hour < self._rt.settings.summary_hour_utc:
            return 0
        day = now.date() - timedelta(days=1)
        waiting = await self._waiting(day)
        queued = 0
        for tenant_id, channel_ids in waiting.items():
            figures = await self._figures(tenant_id, day)
            if figures is None:
                continue
            notice = summary_notice(tenant_id, day, figures, now)
            async with self._rt.db.as_writer() as conn:
                rows = [delivery_row(c, notice, now) for c in channel_ids]
                queued += await enqueue(conn, rows)
        if queued:
            self._rt.wake.set()
        return queued

    async def _waiting(self, day: date) -> dict[str, list[str]]:
        """Summary channels without their summary of ``day`` yet, by tenant."""
        event_id = sa.func.concat(f"{KIND}:", channels.c.tenant_id, f":{day.isoformat()}")
        done = sa.exists().where(
            deliveries.c.channel_id == channels.c.channel_id, deliveries.c.event_id == event_id
        )
        statement = sa.select(channels.c.tenant_id, channels.c.channel_id).where(
            channels.c.kind == "email",
            channels.c.status == store.ACTIVE,
            channels.c.daily_summary.is_(True),
            ~done,
        )
        found: dict[str, list[str]] = {}
        async with self._rt.db.as_writer() as conn:
            for row in await conn.execute(statement):
                found.setdefault(row.tenant_id, []).append(row.channel_id)
        return found

    async def _figures(self, tenant_id: str, day: date) -> DayFigures | None:
        async with self._rt.db.as_writer() as conn:
            kept = await store.kept_key(conn, self._rt.box, tenant_id)
        if kept is None:
            return None
        headers = {"Authorization": f"Bearer {kept[1]}"}
        start = datetime.combine(day, time(), tzinfo=UTC)
        try:
            pnl = await self._get("/api/v1/pnl/daily", headers, since=day, until=day)
            alerts = await self._get(
                "/api/v1/alerts",
                headers,
                status="rejected",
                since=start.isoformat(),
                until=(start + timedelta(days=1)).isoformat(),
                limit=200,
            )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("no summary for a tenant yet: the ledger (%s)", type(exc).__name__)
            return None
        days: Sequence[dict[str, Any]] = pnl["days"]
        return DayFigures(
            fills=sum(int(d["trades"]) for d in days),
            pnl=tuple((str(d["currency"]), Decimal(str(d["realized_pnl"]))) for d in days),
            rejected=len(alerts["alerts"]),
            rejected_more=alerts.get("next_cursor") is not None,
        )

    async def _get(self, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
        response = await self._rt.http.get(
            f"{self._rt.settings.ledger_url}{path}",
            params={k: str(v) for k, v in params.items()},
            headers=headers,
            timeout=self._rt.settings.api_timeout_s,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body
