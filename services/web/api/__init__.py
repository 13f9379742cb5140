"""The signed-in pages, one module per page group, each an ``APIRouter``; `ROUTERS` lists them
for `services.web.app.create_app` to include.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api import (
    account,
    alerts,
    api_keys,
    notifications,
    onboarding,
    positions,
    strategies,
    subscription,
    trade_settings,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    onboarding.router,
    alerts.router,
    positions.router,
    strategies.router,
    trade_settings.router,
    account.router,
    api_keys.router,
    webhooks.router,
    notifications.router,
    subscription.router,
]
