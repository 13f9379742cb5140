"""The copy of an alert's body kept in the intent for the tenant's audit trail.

As received, minus its secrets: the ``passphrase`` (its field, and the same text anywhere
else in the body) and anything else that looks like a secret (``token=…``, a webhook URL)
are replaced by ``[REDACTED]``; then the text is capped.
When the passphrase cannot be removed in place (it is written in an unusual way), the copy is
rebuilt from the parsed fields instead: losing the formatting beats storing a secret.
"""

from __future__ import annotations

import json
from decimal import Decimal

from libs.common.messages.commands import RAW_BODY_CAP
from libs.common.redaction import REDACTED, redact
from services.ingress.domain.parsing import ParsedBody, parse_body
from services.ingress.domain.values import JsonObject, Value
from services.ingress.errors import InvalidAlertError


def audit_copy(parsed: ParsedBody) -> str:
    """Return the body to store: secrets removed, at most ``RAW_BODY_CAP`` characters."""
    text = redact(parsed.text)
    secret = parsed.passphrase
    if secret:
        # Wherever else the sender wrote it (a comment…), it goes too.
        text = text.replace(secret, REDACTED)
        if not _passphrase_gone(text):
            text = redact(_rebuilt(parsed)).replace(secret, REDACTED)
    return text[:RAW_BODY_CAP]


def _passphrase_gone(text: str) -> bool:
    try:
        again = parse_body(text.encode("utf-8"))
    except InvalidAlertError:
        return False
    return again.passphrase in (None, REDACTED)


def _rebuilt(parsed: ParsedBody) -> str:
    return json.dumps({name: _plain(value) for name, value in parsed.fields.items()})


def _plain(value: Value) -> object:
    # A valid alert's fields are text, exact numbers (kept as their digits) or, for a
    # take-profit or stop-loss, an object of those.
    if isinstance(value, JsonObject):
        return {key: _plain(inner) for key, inner in value}
    return str(value) if isinstance(value, Decimal) else value
