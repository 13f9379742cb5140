"""The daily summary: yesterday's figures from the ledger, read with the kept key, mailed once."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifier.channels.email import EmailChannel
from services.notifier.config import NotifierSettings
from services.notifier.database import Database
from services.notifier.domain import DEFAULT_KINDS, ChannelKind
from services.notifier.runtime import Runtime
from services.notifier.sender import Sender
from services.notifier.store import ACTIVE, NewChannel, insert_channel, keep_key
from services.notifier.summary import Summaries
from tests.helpers.billing import served
from tests.helpers.notifier import LedgerStandIn
from tests.helpers.notifier_flow import body_of_any
from tests.helpers.web import SmtpServer

NOW = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


async def test_the_daily_summary_goes_once_with_yesterdays_figures(
    runtime: Runtime, settings: NotifierSettings
) -> None:
    ledger, smtp = LedgerStandIn(), SmtpServer()
    smtp.start()
    try:
        async with served(ledger.app()) as ledger_url:
            configured = settings.model_copy(
                update={"ledger_url": ledger_url, "smtp_host": "127.0.0.1", "smtp_port": smtp.port}
            )
            rt = Runtime(configured, Database.of(configured), clock=lambda: NOW)
            rt.register(EmailChannel(rt))
            try:
                await _check(rt, ledger, smtp)
            finally:
                await rt.close()
    finally:
        smtp.stop()


async def _check(rt: Runtime, ledger: LedgerStandIn, smtp: SmtpServer) -> None:
    new = NewChannel(
        kind=ChannelKind.EMAIL,
        address="daily@example.com",
        masked="daily@example.com",
        events=DEFAULT_KINDS,
        daily_summary=True,
        status=ACTIVE,
    )
    async with rt.db.as_tenant("t1") as conn:
        channel = await insert_channel(conn, rt.box, "t1", new, NOW)
        await keep_key(conn, rt.box, "t1", key_id="k1", key="spk_kept_key_of_t1", now=NOW)
    assert channel is not None
    summaries = Summaries(rt)
    assert await summaries.run_once() == 1
    assert await summaries.run_once() == 0  # once per day and channel
    result = await Sender(rt).send_one(channel.channel_id)
    assert result is not None
    assert result.outcome.value == "sent"
    mail = await smtp.inbox.wait_for("daily@example.com", "Daily summary for 2026-03-01")
    text = body_of_any(mail)
    assert "9 fills" in text
    assert "+12.5 USDT" in text
    assert "3 rejected" in text
    assert {auth for _, auth, _ in ledger.calls} == {"Bearer spk_kept_key_of_t1"}
    assert (
        "pnl",
        "Bearer spk_kept_key_of_t1",
        {"since": "2026-03-01", "until": "2026-03-01"},
    ) in ledger.calls
