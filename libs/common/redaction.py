"""Secret redaction for everything that leaves a process as text: log lines, traces, probes.

Two layers: regex rules that recognise secrets by shape (webhook URLs, Authorization
values, `token=...` pairs, Sparky-issued keys) and a registry of literal secrets the
process has loaded (exchange API keys from Vault) that have no recognisable shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

API_KEY_PREFIX = "spk_"
WEBHOOK_TOKEN_PREFIX = "whk_"  # noqa: S105 - a public prefix, not a secret
OPERATOR_TOKEN_PREFIX = "sop_"  # noqa: S105 - a public prefix, not a secret
SIGNUP_TOKEN_PREFIX = "ssu_"  # noqa: S105 - a public prefix, not a secret
REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter literals are not registered: redacting every "admin" or "12345" shreds logs."""

_SENSITIVE_WORDS = (
    "token",
    "secret",
    "password",
    "passphrase",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "signature",
    "private_key",
    "x-mbx-apikey",
)
_SENSITIVE_KEY = re.compile("|".join(map(re.escape, _SENSITIVE_WORDS)), re.IGNORECASE)

_ISSUED_PREFIXES = (
    API_KEY_PREFIX,
    WEBHOOK_TOKEN_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    SIGNUP_TOKEN_PREFIX,
)
_ISSUED_SECRET = re.compile(
    "(?:" + "|".join(map(re.escape, _ISSUED_PREFIXES)) + ")[A-Za-z0-9_-]{16,}"
)
# A route template (`/webhooks/tv/{token}`, span names, http.route) is not a secret.
_WEBHOOK_PATH = re.compile(r"(/webhooks/tv/)(?!\{\w+\}(?:[/?#\s\"']|$))[^/?#\s\"']+")
# `Basic` only capitalised, as in headers: "the basic plan" in billing logs is not a credential.
_AUTH_SCHEME = re.compile(r"\b((?i:bearer)|Basic)\s+[A-Za-z0-9._~+/-]+=*")
_KEY_VALUE = re.compile(
    r"(?P<key>[\"']?[\w.-]*(?:" + _SENSITIVE_KEY.pattern + r")[\w.-]*[\"']?)"
    r"(?P<sep>[ \t]*[:=][ \t]*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
    # An unquoted Authorization value carries its scheme: keep "Bearer", hide what follows.
    r"|(?P<scheme>(?:bearer|basic)[ \t]+)?[^\s,&\"']+)",
    re.IGNORECASE,
)


def _redact_pair(match: re.Match[str]) -> str:
    value = match["value"]
    quote = value[0] if value[0] in "\"'" else ""
    scheme = match["scheme"] or ""
    return f"{match['key']}{match['sep']}{quote}{scheme}{REDACTED}{quote}"


def is_sensitive_key(name: str) -> bool:
    """Tell whether a field called `name` holds a secret (token, password, api_key...)."""
    return _SENSITIVE_KEY.search(name) is not None


def _scrub_literals(text: str, index: Mapping[str, tuple[str, ...]]) -> str:
    """Replace every registered secret in ``text``, longest first where two start together.

    ``index`` maps the first `MIN_SECRET_LENGTH` characters of each secret to the secrets
    starting with them; one pass over ``text`` looks each window up, so the cost is linear in
    the text whatever the number of secrets, and registering a secret costs nothing more.
    """
    parts: list[str] = []
    width, last, i = MIN_SECRET_LENGTH, 0, 0
    end = len(text) - width
    while i <= end:
        for secret in index.get(text[i : i + width], ()):
            if text.startswith(secret, i):
                parts += (text[last:i], REDACTED)
                i = last = i + len(secret)
                break
        else:
            i += 1
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


class Redactor:
    """Replace secrets in text with `[REDACTED]`; safe to share between threads."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        # Replaced (never mutated) on change, so readers in other threads need no lock.
        self._index: dict[str, tuple[str, ...]] = {}

    def register(self, secret: str) -> None:
        """Redact every later occurrence of `secret`; ignore ones shorter than 8 characters."""
        if len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret not in self._secrets:
                self._secrets.add(secret)
                self._reindex(secret, keep=True)

    def forget(self, secret: str) -> None:
        """Stop redacting `secret` (a rotated key); unknown secrets are ignored."""
        with self._lock:
            if secret in self._secrets:
                self._secrets.discard(secret)
                self._reindex(secret, keep=False)

    def _reindex(self, secret: str, *, keep: bool) -> None:
        prefix = secret[:MIN_SECRET_LENGTH]
        bucket = set(self._index.get(prefix, ())) - {secret} | ({secret} if keep else set())
        same = sorted(bucket, key=len, reverse=True)  # the longest first: no tail leaks
        index = dict(self._index)
        if same:
            index[prefix] = tuple(same)
        else:
            index.pop(prefix, None)
        self._index = index

    def redact(self, text: str) -> str:
        """Return `text` with every registered or recognisable secret replaced."""
        if self._index:
            text = _scrub_literals(text, self._index)
        text = _ISSUED_SECRET.sub(REDACTED, text)
        text = _WEBHOOK_PATH.sub(rf"\g<1>{REDACTED}", text)
        text = _AUTH_SCHEME.sub(rf"\g<1> {REDACTED}", text)
        # _KEY_VALUE backtracks at every position (60-110 µs on a short line); it can only
        # match where a sensitive word occurs, which one plain search finds first.
        if _SENSITIVE_KEY.search(text) is None:
            return text
        return _KEY_VALUE.sub(_redact_pair, text)

    def redact_mapping(self, data: Mapping[Any, Any]) -> dict[Any, Any]:
        """Return a deep copy of `data` with secrets under sensitive keys and in strings hidden."""
        return {key: self._redact_item(key, value) for key, value in data.items()}

    def _redact_item(self, key: object, value: object) -> object:
        if isinstance(key, str) and is_sensitive_key(key) and value is not None:
            return REDACTED
        return self._redact_value(value)

    def _redact_value(self, value: object) -> object:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return self.redact_mapping(value)
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self._redact_value(item) for item in value)
        return value


REDACTOR = Redactor()
"""The process-wide redactor every log handler and span processor uses."""


def redact(text: str) -> str:
    """Return `text` with secrets replaced, using the process-wide `REDACTOR`."""
    return REDACTOR.redact(text)


def redact_mapping(data: Mapping[Any, Any]) -> dict[Any, Any]:
    """Return a redacted deep copy of `data`, using the process-wide `REDACTOR`."""
    return REDACTOR.redact_mapping(data)
