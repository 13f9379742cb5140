"""The executor's Prometheus metrics; never a tenant id as a label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ORDERS = Counter(
    "sparky_executor_orders_total",
    "Orders finished by the executor, by exchange and outcome",
    ["exchange", "outcome"],
)
EXCHANGE_CALL_SECONDS = Histogram(
    "sparky_executor_exchange_call_seconds",
    "Duration of calls to exchanges through ccxt, by exchange and method",
    ["exchange", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_TO_EXCHANGE_SECONDS = Histogram(
    "sparky_executor_webhook_to_exchange_seconds",
    "From ingress receiving the alert to the exchange accepting the order",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CREDENTIAL_CACHE = Counter(
    "sparky_executor_credential_cache_total",
    "Credential look-ups and background reads (hit, miss, refreshed, stale, unavailable)",
    ["result"],
)
REFUSED_COMMANDS = Counter(
    "sparky_executor_refused_commands_total",
    "Commands on ORDERS refused and dead-lettered, never carried out, by reason: missing, "
    "unknown_issuer or bad_signature (a forgery, a key out of step), not_permitted (an issuer "
    "signing a kind it may not)",
    ["reason"],
)
OPEN_ORDERS = Gauge("sparky_executor_open_orders", "Open orders the tracker follows")
VAULT_ERRORS = Counter("sparky_executor_vault_errors_total", "Failed calls to Vault")
CLIENTS = Gauge("sparky_executor_exchange_clients", "ccxt clients in the pool")
GROUP_INSERT_ROWS = Histogram(
    "sparky_executor_group_insert_rows",
    "Order records written per statement when orders ready together are recorded together",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
LOOKUPS = Counter(
    "sparky_executor_lookups_total",
    "Orders looked up by client order id, by why (redelivery, duplicate_id, giving_up, "
    "tracker) and outcome (found, not_found, not_yet); found is exactly-once at work",
    ["via", "outcome"],
)
EXCHANGE_WEIGHT_USED = Gauge(
    "sparky_exchange_weight_used",
    "Request weight used in the current interval, by budget (venue and mode): the venue's "
    "count for the address when it reports one, else this process's estimate",
    ["budget"],
)
EXCHANGE_WEIGHT_LIMIT = Gauge(
    "sparky_exchange_weight_limit",
    "Request weight this process may use per interval, by budget (share and margin applied)",
    ["budget"],
)
EXCHANGE_WEIGHT_WAIT_SECONDS = Histogram(
    "sparky_exchange_weight_wait_seconds",
    "Time requests queued for request weight, by budget",
    ["budget"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EXCHANGE_REFUSALS = Counter(
    "sparky_exchange_refusals_total",
    "Venue refusals and budget refusals, by budget and kind (rate_limited: a 429; banned: "
    "a 418; budget: no room within the wait bound, not sent)",
    ["budget", "kind"],
)
PROTECTIVE_ORDERS = Counter(
    "sparky_executor_protective_orders_total",
    "Take-profit and stop-loss orders of filled entries, by role and outcome (placed; failed: "
    "refused or not placed in time, the position is not protected by it; canceled: its "
    "position closed)",
    ["role", "outcome"],
)
CONTRACT_SETTINGS = Counter(
    "sparky_executor_contract_settings_total",
    "Position mode, margin mode and leverage set on futures accounts before an order, by what",
    ["setting"],
)
TENANT_PURGES = Counter(
    "sparky_executor_tenant_purges_total",
    "tenant.deleted events handled, by outcome (purged: accounts deleted; nothing: none left, "
    "a repeat; refused: the tenants bucket still shows the tenant; malformed)",
    ["outcome"],
)
ACCOUNTS_PURGED = Counter(
    "sparky_executor_accounts_purged_total",
    "Exchange accounts (row, Vault keys, bucket entry) deleted because their tenant was deleted",
)
