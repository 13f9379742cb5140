"""The notifier's sealed values: which context each kind of secret is bound to."""

from __future__ import annotations

from libs.common.sealing import DataBox

PURPOSE = "sparky-notifier/data/v1"


def data_box(secret: str) -> DataBox:
    """Return the notifier's box under ``secret`` (``SPARKY_NOTIFIER_DATA_KEY``)."""
    return DataBox(secret, PURPOSE)


def target_context(channel_id: str) -> str:
    """A channel's target (Discord/webhook URL, email address, chat id)."""
    return f"target:{channel_id}"


def secret_context(channel_id: str) -> str:
    """A webhook channel's signing secret."""
    return f"signing_secret:{channel_id}"


def api_key_context(tenant_id: str) -> str:
    """The tenant API key the notifier holds for ``tenant_id``."""
    return f"api_key:{tenant_id}"


def webhook_token_context(tenant_id: str, source_id: str) -> str:
    """A signal source's ingress webhook token (Telegram)."""
    return f"webhook_token:{tenant_id}:{source_id}"
