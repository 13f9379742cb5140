"""The router's shared state in Redis: decided intents, quota counters, known positions.

Every key of a tenant carries the tenant as a hash tag (``{tenant}``), so a Lua script or a
pipeline touching several of them stays on one Redis Cluster slot.

- ``d:<intent>``: the intent was decided and its output published (kept 8 days, longer than
  INTENTS keeps a message), so a redelivery is acknowledged without a second order;
- ``qa:<UTC hour>`` / ``qo:<UTC day>``: alerts this hour, orders today;
- ``qm:<intent>``: this intent was counted; the counters and the marker change in one Lua call,
  so a redelivered intent is never counted twice;
- ``pos``: a hash of net positions per (account, symbol), fed by ``order.filled`` events;
  ``pf:<message id>`` marks an event applied.
"""

from __future__ import annotations

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


# KEYS: the event's marker, the positions hash. ARGV: the (account, symbol) field.
_READ_FILL = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, false} end
return {0, redis.call('HGET', KEYS[2], ARGV[1])}
"""
# ARGV: field, the amount read ('' for none), the new amount ('' to remove), the marker's TTL.
# Returns 1 (applied), 0 (the event was applied meanwhile) or 2 (the amount changed: read again).
_WRITE_FILL = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local held = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if held ~= ARGV[2] then return 2 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
redis.call('SET', KEYS[1], 1, 'EX', ARGV[4])
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
        self._read_fill = redis.register_script(_READ_FILL)
        self._write_fill = redis.register_script(_WRITE_FILL)

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

    async def apply_fill(
        self, tenant_id: str, event_id: str, where: tuple[str, str], delta: Decimal
    ) -> bool:
        """Add ``delta`` to a position once per event; return False for an event seen before.

        Two round trips: read the held amount (unless the event was applied), then write the
        sum only if the amount is still what was read (a compare-and-set in Lua), else read
        again. The sum is exact: `Decimal` here, never a float in Redis or Lua.
        """
        keys = [self.key(tenant_id, f"pf:{event_id}"), self.key(tenant_id, "pos")]
        field = position_field(*where)
        with redis_errors():
            while True:
                seen, held = await self._read_fill(keys=keys, args=[field])
                if int(seen):
                    return False
                before = _text(held) or ""
                after = Decimal(before or 0) + delta
                written = await self._write_fill(
                    keys=keys, args=[field, before, "" if after == 0 else str(after), MARK_TTL_S]
                )
                if int(written) != _CHANGED_MEANWHILE:
                    return bool(int(written))
