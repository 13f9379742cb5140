"""The auth pages' routers, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
