"""The routes: the auth pages (sign-up, sign-in, recovery, security) and the signed-in pages,
one module per page group, each an ``APIRouter``; `ROUTERS` lists them in the order
`services.web.app.create_app` includes them. `common` and `auth_common` are what they share.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api import (
    account,
    alerts,
    api_keys,
    login,
    notifications,
    onboarding,
    positions,
    recovery,
    security,
    signup,
    strategies,
    subscription,
    trade_settings,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    signup.router,
    login.router,
    recovery.router,
    security.router,
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
