"""Secret redaction for everything that leaves a process as text: log lines, traces, probes.

Two layers: regex rules that recognise secrets by shape (webhook URLs, Authorization
values, `token=...` pairs, Sparky-issued keys) and a registry of literal secrets the
process has loaded (exchange API keys from Vault) that have no recognisable shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

API_KEY_PREFIX = "spk_"
WEBHOOK_TOKEN_PREFIX = "whk_"  # noqa: S105 - a public prefix, not a secret
OPERATOR_TOKEN_PREFIX = "sop_"  # noqa: S105 - a public prefix, not a secret
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

_ISSUED_SECRET = re.compile(
    "(?:"
    + "|".join(map(re.escape, (API_KEY_PREFIX, WEBHOOK_TOKEN_PREFIX, OPERATOR_TOKEN_PREFIX)))
    + ")[A-Za-z0-9_-]{16,}"
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


def _trie_pattern(secrets: Iterable[str]) -> str:
    """Build one alternation, factored by shared prefixes, that prefers the longest secret.

    A flat `a|b|c...` makes the regex engine try every secret at every position (2 ms per
    line with 5,000 secrets); a prefix tree lets it give up after the first characters.
    """
    root: dict[str, Any] = {}
    for secret in secrets:
        node = root
        for char in secret:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node_pattern(root)


def _trie_node_pattern(node: dict[str, Any]) -> str:
    branches = []
    for char, child in sorted(node.items()):
        if char:
            chain, rest = _collapse_chain(char, child)
            branches.append(re.escape(chain) + _trie_node_pattern(rest))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy `?` tries the longer continuation first, so a secret never leaks its tail.
    return f"(?:{body})?" if "" in node else body


def _collapse_chain(chain: str, node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Merge single-child runs so nesting depth follows branch points, not secret length:
    # the regex parser recurses per group and a 2 KB private key would overflow it.
    while len(node) == 1 and "" not in node:
        ((char, node),) = node.items()
        chain += char
    return chain, node


class Redactor:
    """Replace secrets in text with `[REDACTED]`; safe to share between threads."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._literals: re.Pattern[str] | None = None
        self._stale = False

    def register(self, secret: str) -> None:
        """Redact every later occurrence of `secret`; ignore ones shorter than 8 characters."""
        if len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret not in self._secrets:
                self._secrets.add(secret)
                self._stale = True

    def forget(self, secret: str) -> None:
        """Stop redacting `secret` (a rotated key); unknown secrets are ignored."""
        with self._lock:
            if secret in self._secrets:
                self._secrets.discard(secret)
                self._stale = True

    def redact(self, text: str) -> str:
        """Return `text` with every registered or recognisable secret replaced."""
        literals = self._literal_pattern()
        if literals is not None:
            text = literals.sub(REDACTED, text)
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

    def _literal_pattern(self) -> re.Pattern[str] | None:
        if not self._stale:
            return self._literals
        with self._lock:
            if self._stale:
                pattern = _trie_pattern(self._secrets)
                self._literals = re.compile(pattern) if pattern else None
                self._stale = False
            return self._literals


REDACTOR = Redactor()
"""The process-wide redactor every log handler and span processor uses."""


def redact(text: str) -> str:
    """Return `text` with secrets replaced, using the process-wide `REDACTOR`."""
    return REDACTOR.redact(text)


def redact_mapping(data: Mapping[Any, Any]) -> dict[Any, Any]:
    """Return a redacted deep copy of `data`, using the process-wide `REDACTOR`."""
    return REDACTOR.redact_mapping(data)
