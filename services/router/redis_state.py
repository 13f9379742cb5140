"""The router's shared state in Redis: decided intents, quota counters, known positions.

Every key of a tenant carries the tenant as a hash tag (``{tenant}``), so a Lua script or a
pipeline touching several of them stays on one Redis Cluster slot.

- ``d:<intent>``: the intent was decided and its output published (kept 8 days, longer than
  INTENTS keeps a message), so a redelivery is acknowledged without a second order;
- ``qa:<UTC hour>`` / ``qo:<UTC day>``: alerts this hour, orders today;
- ``qm:<intent>``: this intent was counted; the counters and the marker change in one Lua call,
  so a redelivered intent is never counted twice;
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

from services.router.decisions import QuotaLimits, QuotaState
from services.router.errors import redis_errors

MARK_TTL_S = 8 * 86_400
HOUR_TTL_S = 2 * 3_600
DAY_TTL_S = 2 * 86_400

_COMMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local alerts = tonumber(redis.call('GET', KEYS[2]) or '0')
local orders = tonumber(redis.call('GET', KEYS[3]) or '0')
local alert, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local alert_limit, order_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
if alert > 0 and alert_limit >= 0 and alerts + alert > alert_limit then return 1 end
if n > 0 and order_limit >= 0 and orders + n > order_limit then return 2 end
if alert > 0 then
  redis.call('INCRBY', KEYS[2], alert)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
if n > 0 then
  redis.call('INCRBY', KEYS[3], n)
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
redis.call('SET', KEYS[1], alert .. ':' .. n, 'EX', ARGV[7])
return 0
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
    """What the quota commit did."""

    OK = 0
    ALERTS_EXCEEDED = 1
    ORDERS_EXCEEDED = 2


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What Redis knows about a tenant when an intent arrives."""

    decided: str | None
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


class RouterState:
    """Read and write the router's Redis keys under ``prefix``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._commit = redis.register_script(_COMMIT)
        self._read_changes = redis.register_script(_READ_CHANGES)
        self._write_changes = redis.register_script(_WRITE_CHANGES)

    def key(self, tenant_id: str, name: str) -> str:
        """Return the full key of ``name`` for a tenant."""
        return f"{self._prefix}{{{tenant_id}}}:{name}"

    async def snapshot(self, tenant_id: str, intent_id: str, now: datetime) -> Snapshot:
        """Return, in one round trip, whether the intent was decided, usage and positions."""
        k = self.key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(k(tenant_id, f"d:{intent_id}"))
            pipe.get(k(tenant_id, f"qm:{intent_id}"))
            pipe.get(k(tenant_id, f"qa:{now:%Y%m%d%H}"))
            pipe.get(k(tenant_id, f"qo:{now:%Y%m%d}"))
            pipe.hgetall(k(tenant_id, "pos"))
            with redis_errors():
                decided, marker, alerts, orders, held = await pipe.execute()
        quota = QuotaState(int(alerts or 0), int(orders or 0), marker is not None)
        positions = {_parse_field(str(_text(f))): Decimal(str(_text(v))) for f, v in held.items()}
        return Snapshot(_text(decided), quota, positions)

    async def count(
        self, tenant_id: str, intent_id: str, now: datetime, *, limits: QuotaLimits, orders: int
    ) -> Counted:
        """Count one alert and ``orders`` orders, once per intent, unless a limit is exceeded."""
        keys = [
            self.key(tenant_id, f"qm:{intent_id}"),
            self.key(tenant_id, f"qa:{now:%Y%m%d%H}"),
            self.key(tenant_id, f"qo:{now:%Y%m%d}"),
        ]
        alert_limit = -1 if limits.alerts_per_hour is None else limits.alerts_per_hour
        order_limit = -1 if limits.orders_per_day is None else limits.orders_per_day
        args = [1, orders, alert_limit, order_limit, HOUR_TTL_S, DAY_TTL_S, MARK_TTL_S]
        with redis_errors():
            result = await self._commit(keys=keys, args=args)
        return Counted(int(result))

    async def mark_decided(self, tenant_id: str, intent_id: str, outcome: str) -> None:
        """Record that the intent's output was published."""
        with redis_errors():
            await self._redis.set(self.key(tenant_id, f"d:{intent_id}"), outcome, ex=MARK_TTL_S)

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
