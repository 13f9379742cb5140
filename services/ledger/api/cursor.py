"""Opaque page cursors for the trades list and the alert feed: the (time, id) of the last row
of a page.

Pages are read newest first with ``(filled_at, id) < cursor``: a key, not an offset, so trades
recorded while a trader pages through neither shift nor repeat what they see.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from services.ledger.errors import InvalidCursorError

_VERSION = "1"
_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: strictly older than this trade."""

    time: datetime
    id: str

    def encode(self) -> str:
        """Return the cursor as URL-safe text."""
        raw = _SEPARATOR.join((_VERSION, self.time.isoformat(), self.id))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Parse a cursor `encode` made; raise `InvalidCursorError` on anything else."""
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
            version, time_text, trade_id = raw.split(_SEPARATOR)
            time = datetime.fromisoformat(time_text)
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise InvalidCursorError from exc
        if version != _VERSION or time.tzinfo is None or not trade_id:
            raise InvalidCursorError
        return cls(time=time, id=trade_id)
