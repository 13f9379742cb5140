"""Order signing keys of a test session: random, so that a test passes only when every part
that signs or verifies commands on ORDERS was given its key (no development default)."""

from __future__ import annotations

import secrets

from nats.aio.msg import Msg
from pydantic import SecretStr

from libs.common.signing import SIGNATURE_HEADER, CommandSigner, CommandVerifier, Issuer

ROUTER_KEY = secrets.token_hex(32)
LEDGER_KEY = secrets.token_hex(32)
ROUTER_SIGNER = CommandSigner(Issuer.ROUTER, SecretStr(ROUTER_KEY))
LEDGER_SIGNER = CommandSigner(Issuer.LEDGER, SecretStr(LEDGER_KEY))
VERIFIER = CommandVerifier(
    {Issuer.ROUTER: SecretStr(ROUTER_KEY), Issuer.LEDGER: SecretStr(LEDGER_KEY)}
)


def signed_by(msg: Msg) -> Issuer:
    """Return whose session key signed a message read from ORDERS (refused: it raises)."""
    header = msg.headers.get(SIGNATURE_HEADER) if msg.headers else None
    return VERIFIER.issuer_of(msg.subject, msg.data, header)


def verify_key_settings() -> dict[str, str]:
    """Return the executor settings that verify the session's router and ledger keys."""
    return {"order_verify_key_router": ROUTER_KEY, "order_verify_key_ledger": LEDGER_KEY}
