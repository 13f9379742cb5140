"""The signed-in pages, one module per page group, each an ``APIRouter``; `ROUTERS` lists them
for `services.web.app.create_app` to include.
"""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
