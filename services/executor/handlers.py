"""The ORDERS subscriber: check a command's signature, parse the `PlaceOrder` or `CancelOrders`,
carry it out; report what the consumer gives up."""

from __future__ import annotations

import logging

import nats.errors
from faststream.exceptions import FastStreamException
from nats.aio.msg import Msg
from pydantic import ValidationError

from libs.common.consumer import Outcome, tenant_from_subject
from libs.common.db import database_unavailable
from libs.common.errors import MalformedMessageError, UnavailableError
from libs.common.logs import log_context
from libs.common.messages import CancelOrders, PlaceOrder, decode_command
from libs.common.signing import UntrustedCommandError
from services.executor.metrics import REFUSED_COMMANDS
from services.executor.orders.cancels import Canceler
from services.executor.orders.failures import FailureReporter, reason_for
from services.executor.orders.service import OrderService
from services.executor.orders.signatures import CommandGate

log = logging.getLogger(__name__)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is Postgres or NATS being away or full, rather than a bug: such an
    order must be retried, never given up after a few quick attempts (it would be reported
    failed, or worse "uncertain", while nothing is wrong with it).
    """
    return database_unavailable(exc) or isinstance(exc, nats.errors.Error | FastStreamException)


class BadCommandError(MalformedMessageError):
    """A message on ORDERS that is not a command of the subject's tenant."""


def decode(msg: Msg, gate: CommandGate) -> PlaceOrder | CancelOrders:
    """Return the message's command once its signature and its issuer's right to it are
    checked (the signature first, before the bytes are parsed), or raise
    `UntrustedCommandError` or `BadCommandError`: malformed either way, dead-lettered and never
    carried out.
    """
    issuer = gate.issuer_of(msg)
    try:
        command = decode_command(msg.data)
    except ValidationError as exc:
        raise BadCommandError(f"not an order command: {exc.error_count()} field errors") from None
    gate.permit(issuer, command.kind)
    if command.tenant_id != tenant_from_subject(msg.subject):
        raise BadCommandError("the PlaceOrder's tenant is not its subject's")
    return command


class OrderHandler:
    """Thin glue between the partitioned consumer and the orders room."""

    def __init__(
        self,
        gate: CommandGate,
        service: OrderService,
        reporter: FailureReporter,
        canceler: Canceler,
    ) -> None:
        self._gate = gate
        self._service = service
        self._reporter = reporter
        self._canceler = canceler

    async def handle(self, msg: Msg) -> None:
        """Carry the command out; temporary trouble propagates, so the consumer retries."""
        try:
            command = decode(msg, self._gate)
        except UntrustedCommandError as refused:
            REFUSED_COMMANDS.labels(refused.reason).inc()
            log.warning(
                "command on ORDERS refused: %s",
                refused,
                extra={"tenant_id": tenant_from_subject(msg.subject), "reason": refused.reason},
            )
            raise
        if isinstance(command, CancelOrders):
            await self._cancel(command)
            return
        with log_context(
            tenant_id=command.tenant_id,
            intent_id=command.intent_id,
            client_order_id=command.client_order_id,
        ):
            try:
                record = await self._service.place(command)
            except Exception as exc:
                if unavailable(exc):
                    # Postgres or NATS away: retry in place, however long it takes. Safe: a
                    # retry finds the submission record (if it was written) and looks the
                    # order up by client order id before it would ever submit again.
                    raise UnavailableError(f"unavailable: {type(exc).__name__}") from exc
                raise
            log.info("order handled", extra={"state": record.state.value})

    async def _cancel(self, command: CancelOrders) -> None:
        with log_context(tenant_id=command.tenant_id, intent_id=command.intent_id):
            try:
                count = await self._canceler.cancel(command)
            except Exception as exc:
                if unavailable(exc):
                    raise UnavailableError(f"unavailable: {type(exc).__name__}") from exc
                raise
            log.info("cancel handled", extra={"canceled": count})

    async def on_failure(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        """Report an order the consumer gave up on, after looking it up on the exchange."""
        try:
            command = decode(msg, self._gate)
        except (BadCommandError, UntrustedCommandError) as bad:
            log.warning("unreadable or unsigned message on ORDERS dead-lettered: %s", bad)
            return
        if isinstance(command, CancelOrders):
            log.error("giving up on a cancel (%s)", outcome.value)
            await self._canceler.give_up(command, reason_for(outcome, exc))
            return
        with log_context(tenant_id=command.tenant_id, intent_id=command.intent_id):
            log.error("giving up on an order (%s)", outcome.value)
            await self._reporter.give_up(command, reason_for(outcome, exc))
