"""The router's shared state in Redis: kept decisions, quota counters, known positions.

Every key of a tenant carries the tenant as a hash tag (``{tenant}``), so a Lua script
touching several of them stays on one Redis Cluster slot. An intent costs two calls: one Lua
read of everything a decision needs, one Lua commit that counts and keeps the decision.

- ``d:<intent>``: the decision kept by the commit (`Kept`: the orders or the rejection, as
  compact JSON), before anything is published; kept `KEPT_TTL_S` (8 days, longer than INTENTS
  keeps a message), so a redelivery republishes it instead of deciding again;
- ``qa:<UTC hour>`` / ``qo:<UTC day>``: alerts this hour, orders today; they change only in
  the commit that keeps the decision, so an intent is never counted twice;
- ``pos``: a hash of net positions per (account, symbol), fed by ``order.filled`` events (net
  of fees in the coin) and by coins written off in ``position.drift`` events;
  ``pc:<account>|<symbol>|<change id>`` marks one change applied: a fill by the exchange's
  trade id (an executor may report one fill in two events after a crash), a write-off by its
  event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

from redis.asyncio import Redis

from services.router.domain.decisions import QuotaState
from services.router.domain.kept import Commit, Kept
from services.router.errors import redis_errors

KEPT_TTL_S = 8 * 86_400
MARK_TTL_S = 8 * 86_400
HOUR_TTL_S = 2 * 3_600
DAY_TTL_S = 2 * 86_400

# KEYS: the kept decision, alerts this hour, orders today, the positions hash.
# Returns them as they are (positions as HGETALL's flat list).
_READ = """
local out = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
out[4] = redis.call('HGETALL', KEYS[4])
return out
"""

# KEYS: the kept decision, alerts this hour, orders today. ARGV: alerts and orders to count,
# their limits (-1: none), the counters' TTLs, the kept decision's TTL, the decision, and the
# rejections kept instead when the alert or order limit is found used up ('' when it has none).
# Returns {3, kept} when a decision was kept before (a redelivery), {4} when a router of the
# previous design recorded it as published (plain text), else {0 | 1 | 2}.
_COMMIT = """
local before = redis.call('GET', KEYS[1])
if before then
  if string.sub(before, 1, 1) == '{' then return {3, before} end
  return {4}
end
local alert, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local alert_limit, order_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local code, kept = 0, ARGV[8]
if alert > 0 and alert_limit >= 0 and
   tonumber(redis.call('GET', KEYS[2]) or '0') + alert > alert_limit then
  code, kept = 1, ARGV[9]
elseif n > 0 and order_limit >= 0 and
   tonumber(redis.call('GET', KEYS[3]) or '0') + n > order_limit then
  code, kept = 2, ARGV[10]
else
  if alert > 0 then
    redis.call('INCRBY', KEYS[2], alert)
    redis.call('EXPIRE', KEYS[2], ARGV[5])
  end
  if n > 0 then
    redis.call('INCRBY', KEYS[3], n)
    redis.call('EXPIRE', KEYS[3], ARGV[6])
  end
end
redis.call('SET', KEYS[1], kept, 'EX', ARGV[7])
return {code}
"""


# KEYS: the positions hash, then one marker per change. ARGV: the (account, symbol) field.
# Returns the held amount (false for none), then 1 or 0 per marker: applied before or not.
_READ_CHANGES = """
local out = {redis.call('HGET', KEYS[1], ARGV[1])}
for i = 2, #KEYS do out[i] = redis.call('EXISTS', KEYS[i]) end
return out
"""
# KEYS: the positions hash, then the markers of the changes to apply. ARGV: field, the amount
# read ('' for none), the new amount ('' to remove), the markers' TTL.
# Returns 1 (applied) or 2 (the amount or a marker changed meanwhile: read again).
_WRITE_CHANGES = """
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 2 end
end
local held = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if held ~= ARGV[2] then return 2 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
for i = 2, #KEYS do redis.call('SET', KEYS[i], 1, 'EX', ARGV[4]) end
return 1
"""
_CHANGED_MEANWHILE = 2


class Counted(IntEnum):
    """What the commit did."""

    OK = 0
    ALERTS_EXCEEDED = 1
    ORDERS_EXCEEDED = 2
    DECIDED_BEFORE = 3
    # Recorded as published by a router of the previous design ("placed:1"); gone 8 days after
    # the upgrade (KEPT_TTL_S), then this can go too.
    PUBLISHED_BEFORE = 4


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What Redis knows about a tenant when an intent arrives."""

    kept: Kept | None
    quota: QuotaState
    positions: dict[tuple[str, str], Decimal]


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def position_field(label: str, symbol: str) -> str:
    """Return the hash field of one (account, symbol): the label hex-encoded, any text."""
    return f"{label.encode().hex()}|{symbol}"


def _parse_field(field: str) -> tuple[str, str]:
    label, _, symbol = field.partition("|")
    return bytes.fromhex(label).decode(), symbol


def _positions(flat: Sequence[bytes]) -> dict[tuple[str, str], Decimal]:
    pairs = zip(flat[::2], flat[1::2], strict=True)
    return {_parse_field(field.decode()): Decimal(value.decode()) for field, value in pairs}


def _kept(raw: bytes | None) -> Kept | None:
    # Not JSON: a previous design's "published" record, left to the commit to report.
    return Kept.decode(raw) if raw is not None and raw.startswith(b"{") else None


def _limit(limit: int | None) -> int:
    return -1 if limit is None else limit


class RouterState:
    """Read and write the router's Redis keys under ``prefix``."""

    def __init__(self, redis: Redis, prefix: str, *, kept_ttl_s: int = KEPT_TTL_S) -> None:
        self._redis = redis
        self._prefix = prefix
        self._kept_ttl_s = kept_ttl_s
        self._read = redis.register_script(_READ)
        self._commit = redis.register_script(_COMMIT)
        self._read_changes = redis.register_script(_READ_CHANGES)
        self._write_changes = redis.register_script(_WRITE_CHANGES)

    def key(self, tenant_id: str, name: str) -> str:
        """Return the full key of ``name`` for a tenant."""
        return f"{self._prefix}{{{tenant_id}}}:{name}"

    def _quota_keys(self, tenant_id: str, intent_id: str, now: datetime) -> list[str]:
        return [
            self.key(tenant_id, f"d:{intent_id}"),
            self.key(tenant_id, f"qa:{now:%Y%m%d%H}"),
            self.key(tenant_id, f"qo:{now:%Y%m%d}"),
        ]

    async def snapshot(self, tenant_id: str, intent_id: str, now: datetime) -> Snapshot:
        """Return, in one call, the intent's kept decision (if any), usage and positions."""
        keys = [*self._quota_keys(tenant_id, intent_id, now), self.key(tenant_id, "pos")]
        with redis_errors():
            kept, alerts, orders, held = await self._read(keys=keys)
        quota = QuotaState(int(alerts or 0), int(orders or 0))
        return Snapshot(_kept(kept), quota, _positions(held))

    async def commit(
        self, tenant_id: str, intent_id: str, now: datetime, commit: Commit
    ) -> tuple[Counted, Kept | None]:
        """Count and keep a decision in one atomic call, unless one was kept before.

        Returns what was done and what is kept now: the decision, the quota rejection kept
        instead when a limit was found used up, or the decision an earlier delivery kept (None
        when a router of the previous design published it, keeping no decision).
        """
        limits, exceeded = commit.limits, (commit.if_alerts_exceeded, commit.if_orders_exceeded)
        args: list[bytes | int] = [
            commit.alerts,
            commit.orders,
            _limit(limits.alerts_per_hour),
            _limit(limits.orders_per_day),
            HOUR_TTL_S,
            DAY_TTL_S,
            self._kept_ttl_s,
            commit.kept.encode(),
            *(b"" if kept is None else kept.encode() for kept in exceeded),
        ]
        with redis_errors():
            result = await self._commit(keys=self._quota_keys(tenant_id, intent_id, now), args=args)
        counted = Counted(int(result[0]))
        if counted is Counted.DECIDED_BEFORE:
            return counted, Kept.decode(result[1])
        if counted is Counted.PUBLISHED_BEFORE:
            return counted, None
        chosen = commit.kept if counted is Counted.OK else exceeded[counted - 1]
        if chosen is None:  # the script found a limit the commit had no refusal for
            raise RuntimeError(f"the commit found {counted.name} without a limit")
        return counted, chosen

    async def apply_changes(
        self, tenant_id: str, where: tuple[str, str], changes: Sequence[tuple[str, Decimal]]
    ) -> int:
        """Add each change to a position once (keyed by its id); return how many were new.

        Two round trips: read the held amount and which changes were applied, then write the
        sum of the others only if nothing moved meanwhile (a compare-and-set in Lua), else
        read again. The sum is exact: `Decimal` here, never a float in Redis or Lua.
        """
        field = position_field(*where)
        pos = self.key(tenant_id, "pos")
        markers = [self.key(tenant_id, f"pc:{field}|{change_id}") for change_id, _ in changes]
        with redis_errors():
            while True:
                held, *seen = await self._read_changes(keys=[pos, *markers], args=[field])
                new = [(m, c[1]) for m, c, s in zip(markers, changes, seen, strict=True) if not s]
                if not new:
                    return 0
                before = _text(held) or ""
                after = Decimal(before or 0) + sum((delta for _, delta in new), Decimal(0))
                written = await self._write_changes(
                    keys=[pos, *(m for m, _ in new)],
                    args=[field, before, "" if after == 0 else str(after), MARK_TTL_S],
                )
                if int(written) != _CHANGED_MEANWHILE:
                    return len(new)
