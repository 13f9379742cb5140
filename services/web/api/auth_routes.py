"""The auth pages' routers, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api import login, recovery, security, signup

ROUTERS: list[APIRouter] = [
    signup.router,
    login.router,
    recovery.router,
    security.router,
]
