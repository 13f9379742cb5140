"""Operators as named people with tokens of their own, and the audit log of their actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from tests.helpers.billing import OPERATOR, Billing, Clock
from tests.helpers.namespaces import PgSchema


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_operator(billing: Billing, name: str, by: dict[str, str] = OPERATOR) -> str:
    """Create an operator; return their token."""
    answer = await billing.http.post("/api/v1/operators", json={"name": name}, headers=by)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


async def audit(billing: Billing, **query: Any) -> Any:
    """Read the audit log as the bootstrap operator."""
    answer = await billing.http.get("/api/v1/audit", params=query, headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_each_operator_acts_with_their_own_token_and_is_audited_once_per_action(
    billing: Billing,
) -> None:
    ada = bearer(await add_operator(billing, "ada"))
    bob = bearer(await add_operator(billing, "bob"))
    created = await billing.http.post("/api/v1/tenants", json={"name": "T"}, headers=ada)
    tenant_id = created.json()["tenant"]["tenant_id"]
    suspended = await billing.http.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=bob)
    hooks = await billing.http.get(f"/api/v1/tenants/{tenant_id}/webhooks", headers=bob)
    plain = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=ada)  # not audited
    refused = await billing.http.put(
        f"/api/v1/tenants/{tenant_id}/plan", json={"plan": "gold"}, headers=ada
    )

    assert (created.status_code, suspended.status_code, hooks.status_code) == (201, 200, 200)
    assert (plain.status_code, refused.status_code) == (200, 422)
    entries = (await audit(billing, tenant_id=tenant_id))["entries"]
    assert [(e["operator"], e["action"], e["status"], e["outcome"]) for e in entries] == [
        ("ada", "create_tenant", 201, "succeeded"),
        ("bob", "suspend_tenant", 200, "succeeded"),
        ("bob", "list_webhooks", 200, "succeeded"),
        ("ada", "set_plan", 422, "refused"),
    ]
    everyone = (await audit(billing))["entries"]
    assert [(e["operator"], e["action"], e["target"]) for e in everyone[:2]] == [
        ("bootstrap", "create_operator", "ada"),
        ("bootstrap", "create_operator", "bob"),
    ]
    assert suspended.headers["X-Request-ID"] == entries[1]["request_id"]


async def test_a_request_id_sent_by_the_caller_is_the_one_recorded(billing: Billing) -> None:
    answer = await billing.http.post(
        "/api/v1/operators", json={"name": "ada"}, headers={**OPERATOR, "X-Request-ID": "req-42"}
    )

    assert answer.headers["X-Request-ID"] == "req-42"
    (entry,) = (await audit(billing, operator="bootstrap"))["entries"]
    assert entry["request_id"] == "req-42"


async def test_a_revoked_token_is_refused_at_once(billing: Billing) -> None:
    ada = bearer(await add_operator(billing, "ada"))
    assert (await billing.http.get("/api/v1/tenants", headers=ada)).status_code == 200

    revoked = await billing.http.delete("/api/v1/operators/ada", headers=OPERATOR)

    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_by"] == "bootstrap"
    again = await billing.http.get("/api/v1/tenants", headers=ada)
    assert again.status_code == 401
    assert "WWW-Authenticate" in again.headers
    entries = (await audit(billing))["entries"]
    assert [e["action"] for e in entries] == ["create_operator", "revoke_operator"]


async def test_the_bootstrap_token_can_be_disabled_but_not_the_last_operator(
    billing: Billing,
) -> None:
    ada = bearer(await add_operator(billing, "ada"))

    disabled = await billing.http.delete("/api/v1/operators/bootstrap", headers=ada)
    refused = await billing.http.get("/api/v1/tenants", headers=OPERATOR)
    last = await billing.http.delete("/api/v1/operators/ada", headers=ada)

    assert (disabled.status_code, refused.status_code, last.status_code) == (200, 401, 409)
    assert "last operator" in last.json()["error"]
    names = await billing.http.get("/api/v1/operators", headers=ada)
    assert [o["name"] for o in names.json()] == ["ada"]


async def test_a_token_is_never_shown_or_stored_after_its_creation(
    billing: Billing, pg_schema: PgSchema
) -> None:
    token = await add_operator(billing, "ada")
    ada = bearer(token)
    await billing.http.post("/api/v1/tenants", json={"name": "T"}, headers=ada)

    listed = await billing.http.get(
        "/api/v1/operators", params={"include_revoked": "true"}, headers=ada
    )
    log = await billing.http.get("/api/v1/audit", headers=ada)

    assert token not in listed.text
    assert token not in log.text
    assert token[:8] in listed.text  # the prefix, for recognising it
    taken = await billing.http.post("/api/v1/operators", json={"name": "ada"}, headers=ada)
    assert taken.status_code == 409
    conn = await asyncpg.connect(pg_schema.url)
    try:
        for table in ("operators", "operator_audit"):
            rows = await conn.fetch(f"SELECT * FROM {pg_schema.name}.{table}")
            assert rows
            assert all(token not in str(tuple(r.values())) for r in rows)
    finally:
        await conn.close()


async def test_a_name_that_is_not_a_name_or_is_reserved_is_refused(billing: Billing) -> None:
    for name in ("Ada Lovelace", "bootstrap", ""):
        answer = await billing.http.post("/api/v1/operators", json={"name": name}, headers=OPERATOR)
        assert answer.status_code == 422, name


async def test_the_audit_log_is_append_only(billing: Billing, pg_schema: PgSchema) -> None:
    await add_operator(billing, "ada")
    conn = await asyncpg.connect(pg_schema.url)
    try:
        table = f"{pg_schema.name}.operator_audit"
        for statement in (
            f"UPDATE {table} SET operator = 'mallory'",
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval(f"SELECT operator FROM {table}") == "bootstrap"
    finally:
        await conn.close()


async def test_the_audit_log_pages_with_a_cursor_and_filters_by_operator_and_time(
    billing: Billing, clock: Clock
) -> None:
    ada = bearer(await add_operator(billing, "ada"))
    names = [f"op{i}" for i in range(5)]
    for name in names[:3]:
        await add_operator(billing, name, by=ada)
    clock.advance(timedelta(hours=1))
    later = clock().isoformat()
    for name in names[3:]:
        await add_operator(billing, name, by=ada)

    first = await audit(billing, operator="ada", limit=2)
    second = await audit(billing, operator="ada", limit=2, after=first["next_after"])
    third = await audit(billing, operator="ada", limit=2, after=second["next_after"])
    recent = await audit(billing, operator="ada", **{"from": later})

    pages = [first, second, third]
    assert [e["target"] for page in pages for e in page["entries"]] == names
    assert third["next_after"] is None
    assert [e["target"] for e in recent["entries"]] == names[3:]
    assert (await audit(billing, operator="nobody"))["entries"] == []
    naive = await billing.http.get(
        "/api/v1/audit", params={"from": "2026-01-01T00:00:00"}, headers=ada
    )
    assert naive.status_code == 422  # a time without its offset is ambiguous
