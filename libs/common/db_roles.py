"""The Postgres roles of one deployment, named after its prefix.

Roles are cluster-wide: two deployments sharing a Postgres server (staging next to production)
would share ``sparky_router_writer`` if names were fixed, and either's login could switch to the
other's role. Every role is therefore ``<prefix>_<service>_<kind>``, the prefix being
``SPARKY_DB_ROLE_PREFIX`` or, unset, the deployment's namespace (``sparky`` →
``sparky_router_writer``, a test's ``pt3k…`` → ``pt3k…_router_writer``).

Two logins work with them (`libs.common.db_logins` creates both):

- the **migration login** owns the schemas and tables, runs Alembic, and is a member of every
  role (a data migration switches to the writer, whose policies see every row);
- the **runtime login**, the services' own, owns nothing, is ``NOINHERIT`` and a member of
  this deployment's roles only: it holds no right until a connection switches to one of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, model_validator

from libs.common.db import check_schema

ROLE_PREFIX_PATTERN = r"^[a-z_][a-z0-9_]{0,39}$"
# Which roles each service switches to, by kind; a service's setting ``<kind>_role`` names one.
SERVICE_ROLES: Mapping[str, tuple[str, ...]] = {
    "router": ("reader", "writer"),
    "executor": ("api", "writer"),
    "ledger": ("reader", "writer"),
    "billing": ("writer",),
    "web": ("writer",),
    "notifier": ("api", "writer"),
}
DEFAULT_NAMESPACE = "sparky"
_PREFIX_RE = re.compile(ROLE_PREFIX_PATTERN)


def role_prefix(namespace: str, configured: str = "") -> str:
    """Return the role prefix: ``configured`` if set, else ``namespace`` (``-`` as ``_``)."""
    prefix = configured or namespace.replace("-", "_")
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"role prefix {prefix!r} must match {ROLE_PREFIX_PATTERN}")
    return prefix


def role_name(prefix: str, service: str, kind: str) -> str:
    """Return the name of ``service``'s ``kind`` role in the deployment of ``prefix``."""
    if kind not in SERVICE_ROLES[service]:
        raise ValueError(f"{service} has no {kind} role")
    return check_schema(f"{prefix}_{service}_{kind}")


def deployment_roles(prefix: str) -> list[str]:
    """Return every role of the deployment of ``prefix``, in a fixed order."""
    return [role_name(prefix, svc, kind) for svc, kinds in SERVICE_ROLES.items() for kind in kinds]


def with_prefixed_roles(data: Any, service: str) -> Any:
    """Fill a service's unset ``<kind>_role`` settings with the prefixed names.

    For a settings class's ``model_validator(mode="before")``: ``data`` holds what the
    environment and the caller gave, by field name; a role named there is kept.
    """
    if not isinstance(data, dict):
        return data
    prefix = role_prefix(
        str(data.get("namespace") or DEFAULT_NAMESPACE), str(data.get("db_role_prefix") or "")
    )
    filled = dict(data)
    for kind in SERVICE_ROLES[service]:
        if not filled.get(f"{kind}_role"):
            filled[f"{kind}_role"] = role_name(prefix, service, kind)
    return filled


class PrefixedRoles(BaseModel):
    """Mix into a service's settings, naming the service in ``ROLE_SERVICE``: its unset
    ``<kind>_role`` settings get the deployment's prefixed names (`with_prefixed_roles`).
    """

    ROLE_SERVICE: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _prefixed_roles(cls, data: Any) -> Any:
        return with_prefixed_roles(data, cls.ROLE_SERVICE)


def role_attributes(prefix: str, service: str, **overrides: str) -> dict[str, str]:
    """Return the Alembic attributes naming ``service``'s roles (``reader_role`` …)."""
    names = {f"{kind}_role": role_name(prefix, service, kind) for kind in SERVICE_ROLES[service]}
    names |= {key: check_schema(value) for key, value in overrides.items() if value}
    return names
