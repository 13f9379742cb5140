"""Who may command the executor: a command on ORDERS is carried out only when signed by an
issuer allowed to sign its kind (`libs.common.signing`).

The router decides orders and cancels; the ledger only forwards a trader's ``DELETE`` of an
open order. So a compromised ledger (or anything else able to publish on ORDERS) can never
make the executor place an order.
"""

from __future__ import annotations

from collections.abc import Mapping

from nats.aio.msg import Msg

from libs.common.signing import (
    MAY_SIGN,
    SIGNATURE_HEADER,
    CommandVerifier,
    Issuer,
    UntrustedCommandError,
)

__all__ = ["MAY_SIGN", "CommandGate"]


class CommandGate:
    """Check a message's signature before it is read, and its issuer's right to its kind."""

    def __init__(
        self, verifier: CommandVerifier, may_sign: Mapping[Issuer, frozenset[str]]
    ) -> None:
        self._verifier = verifier
        self._may_sign = may_sign

    def issuer_of(self, msg: Msg) -> Issuer:
        """Return who signed ``msg`` for its subject, or raise `UntrustedCommandError`."""
        header = msg.headers.get(SIGNATURE_HEADER) if msg.headers else None
        return self._verifier.issuer_of(msg.subject, msg.data, header)

    def permit(self, issuer: Issuer, kind: str) -> None:
        """Raise `UntrustedCommandError` unless ``issuer`` may sign commands of ``kind``."""
        if kind not in self._may_sign.get(issuer, frozenset()):
            raise UntrustedCommandError(
                "not_permitted", f"{issuer.value} may not sign a {kind!r} command"
            )
