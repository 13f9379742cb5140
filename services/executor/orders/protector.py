"""Protective orders around an order's fill: place an entry's take-profit and stop-loss once it
has filled, cancel the other one when one of them fills, and cancel every protective order left
in a symbol once the strategy's position there is flat (closed by an alert, by a protective
order, or reversed).

Placing is idempotent (each protective order is a record with a derived client order id, placed
through `Submitter`), so after a crash between the entry's fill and its protection the tracker
places what is still owed, exactly once. A protective order the exchange or the rules refuse is
reported as ``protection.failed`` at once; one that cannot be placed for temporary reasons is
tried again every tracker round, and reported as ``protection.failed`` once ``give_up_s`` have
passed since the entry filled: the trader learns the position is unprotected, it is never
silent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from datetime import timedelta
from decimal import Decimal

from libs.common.errors import TemporaryError
from libs.common.fsm import OPEN, UNRESOLVED, OrderState
from libs.common.messages import OrderRole
from libs.common.positions import is_contract
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import OrderRecord, Protection
from services.executor.errors import OrderNotFoundError
from services.executor.metrics import PROTECTIVE_ORDERS
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.protection import InvalidExitError, plan, targets, words
from services.executor.orders.submission import Submitter, observe

log = logging.getLogger(__name__)
_REFUSED = frozenset({OrderState.REJECTED, OrderState.FAILED})


class Protector:
    """Place and cancel protective orders."""

    def __init__(self, outcomes: Outcomes, submitter: Submitter, *, give_up_s: float) -> None:
        self._out = outcomes
        self._orders = outcomes.orders
        self._submit = submitter
        self._give_up = timedelta(seconds=give_up_s)

    async def after(self, record: OrderRecord, session: ExchangeSession) -> OrderRecord:
        """React to what just happened to ``record`` (adopted from the exchange)."""
        if record.protection is Protection.OWED:
            try:
                record = await self.protect(record, session)
            except TemporaryError as exc:
                log.info("protective orders not placed yet (%s); the tracker retries", exc)
        filled = record.state is OrderState.FILLED or (
            record.state is OrderState.CANCELED and record.filled > 0
        )
        if filled and _may_end_protection(record, session):
            await self._after_fill(record, session)
        return record

    async def protect(self, entry: OrderRecord, session: ExchangeSession) -> OrderRecord:
        """Place what ``entry`` still owes; return it with its protection settled."""
        held = await self._orders.position(entry.tenant_id, entry.account_label, entry.symbol)
        long = entry.side.value == "buy"
        if (held.quantity > 0) != long or held.quantity == 0:
            log.info("the entry's position is closed already: nothing to protect")
            return await self._settle(entry, Protection.PLACED)
        amount = min(entry.filled, abs(held.quantity))  # spot: the coins the fill left
        children, failed = await self._children(entry, amount, session)
        if len(children) == 2 and session.venue.protection.oco_method is not None:
            failed |= not await self._place_oco(entry, children, session)
        else:
            for role, child in children:
                failed |= not await self._place(entry, role, child, session)
        return await self._settle(entry, Protection.FAILED if failed else Protection.PLACED)

    async def unprotected(self, canceled: list[OrderRecord], intent_id: str) -> None:
        """Tell the trader that protective orders were canceled for a partial sell: what the
        strategy still holds after it is not protected by them."""
        for parent_id in sorted(
            {r.parent_client_order_id for r in canceled if r.parent_client_order_id}
        ):
            entry = await self._orders.get(parent_id)
            if entry is None:
                continue
            for role in sorted({r.role for r in canceled if r.parent_client_order_id == parent_id}):
                await self._failed(
                    entry,
                    role,
                    f"The {words(role)} was canceled to free the coins a later sell (alert "
                    f"{intent_id}) needed; what the strategy still holds after that sell is not "
                    "protected by it. Send a new entry with its exits to protect it again.",
                )

    async def _children(
        self, entry: OrderRecord, amount: Decimal, session: ExchangeSession
    ) -> tuple[list[tuple[OrderRole, OrderRecord]], bool]:
        """Return the entry's protective records to place, and whether any was refused."""
        rounding, native = session.rounding(entry.symbol), session.venue.protection.native
        children: list[tuple[OrderRole, OrderRecord]] = []
        failed = False
        for role, target in targets(entry):
            try:
                child = plan(
                    entry, role, target, rounding, native, amount=amount, now=self._out.clock()
                )
            except InvalidExitError as exc:
                await self._failed(entry, role, str(exc))
                failed = True
                continue
            children.append((role, child))
        return children, failed

    async def give_up_if_due(self, entry: OrderRecord) -> bool:
        """Report an entry's protection failed once it has been owed too long."""
        if self._out.clock() - entry.updated_at < self._give_up:
            return False
        for role, _ in targets(entry):
            await self._failed(
                entry,
                role,
                f"The {words(role)} could not be placed for {self._give_up.seconds} s after "
                "the entry filled (the exchange was unavailable); the position is not protected "
                "by it.",
            )
        await self._settle(entry, Protection.FAILED)
        return True

    async def _place(
        self, entry: OrderRecord, role: OrderRole, child: OrderRecord, session: ExchangeSession
    ) -> bool:
        record, created = await self._orders.create(child)
        if created:
            record = await self._submit.drive(record, session)
        elif record.state in UNRESOLVED:
            record = await self._submit.look_up(record, session, resubmit=True)
        return await self._outcome(entry, role, record, placed=created)

    async def _place_oco(
        self,
        entry: OrderRecord,
        children: list[tuple[OrderRole, OrderRecord]],
        session: ExchangeSession,
    ) -> bool:
        """Place a take-profit and a stop-loss as one OCO list (spot), exactly once."""
        (tp_role, tp_child), (sl_role, sl_child) = children
        tp, tp_new = await self._orders.create(tp_child)
        sl, sl_new = await self._orders.create(sl_child)
        list_id = entry.client_order_id + "o"
        if tp_new and sl_new:
            tp, sl = await self._submit.drive_oco(tp, sl, list_id, session)
        elif tp.state in UNRESOLVED or sl.state in UNRESOLVED:
            tp, sl = await self._submit.look_up_oco(tp, sl, list_id, session)
        placed = tp_new and sl_new
        ok = await self._outcome(entry, tp_role, tp, placed=placed)
        return await self._outcome(entry, sl_role, sl, placed=placed) and ok

    async def _outcome(
        self, entry: OrderRecord, role: OrderRole, record: OrderRecord, *, placed: bool
    ) -> bool:
        if record.state in _REFUSED:
            reason = record.reason or "The exchange refused it."
            await self._failed(entry, role, reason)
            return False
        if placed:
            PROTECTIVE_ORDERS.labels(role.value, "placed").inc()
        return True

    async def _failed(self, entry: OrderRecord, role: OrderRole, reason: str) -> None:
        PROTECTIVE_ORDERS.labels(role.value, "failed").inc()
        await self._out.emitter.protection_failed(entry, role, reason)

    async def _settle(self, entry: OrderRecord, protection: Protection) -> OrderRecord:
        return await self._orders.save(dataclasses.replace(entry, protection=protection))

    async def _after_fill(self, record: OrderRecord, session: ExchangeSession) -> None:
        """Cancel protective orders the fill made pointless."""
        doomed: list[OrderRecord] = []
        if record.protective and record.parent_client_order_id is not None:
            doomed += await self._orders.children(record.parent_client_order_id)
        held = await self._orders.position(record.tenant_id, record.account_label, record.symbol)
        if held.quantity == 0:
            found = await self._orders.open_in(
                record.tenant_id, record.account_label, record.symbol
            )
            doomed += [r for r in found if r.protective]
        seen: set[str] = {record.client_order_id}
        for other in doomed:
            if other.client_order_id in seen or other.state not in OPEN:
                continue
            seen.add(other.client_order_id)
            await self.cancel(other, session, reason="its position closed")
            PROTECTIVE_ORDERS.labels(other.role.value, "canceled").inc()

    async def cancel(
        self, record: OrderRecord, session: ExchangeSession, *, reason: str
    ) -> OrderRecord:
        """Cancel one of Sparky's open orders and record what the exchange then reports."""
        log.info("canceling order %s: %s", record.client_order_id, reason)
        if record.exchange_order_id is not None:
            # Filled or canceled meanwhile: what it is now is adopted below.
            with contextlib.suppress(OrderNotFoundError):
                await session.cancel(
                    record.symbol, record.exchange_order_id, conditional=record.conditional
                )
        found = await observe(session, record)
        if found is None:
            return record
        return await self._out.adopt(record, found, session)


def _may_end_protection(record: OrderRecord, session: ExchangeSession) -> bool:
    """Whether a fill of ``record`` may leave protective orders pointless: a protective order,
    or one that reduces a position (reduce-only; a spot sell) on a market that holds them.
    Other fills (a spot buy, most of the order path) cost no look at protective orders."""
    if not session.venue.protection.native:
        return False
    spot_sell = not is_contract(record.symbol) and record.side.value == "sell"
    return record.protective or record.reduce_only or spot_sell
