"""The auth pages' routers, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.auth import login_routes, recovery_routes, security_routes, signup_routes

ROUTERS: list[APIRouter] = [
    signup_routes.router,
    login_routes.router,
    recovery_routes.router,
    security_routes.router,
]
