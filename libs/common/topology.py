"""Every JetStream stream, subject and KV bucket Sparky uses, with the namespace applied.

Names are built here and nowhere else. With namespace ``sparky``:

- stream ``sparky_INTENTS``  subjects ``sparky.intents.<p>.<tenant>``
- stream ``sparky_ORDERS``   subjects ``sparky.orders.<p>.<tenant>``
- stream ``sparky_EVENTS``   subjects ``sparky.events.<tenant>.<kind>``
- stream ``sparky_DEADLETTER`` subjects ``sparky.dlq.<stream>`` (poison messages, kept 30 days)
- KV buckets ``sparky_tenants``, ``sparky_webhook-tokens``, ``sparky_api-keys``,
  ``sparky_accounts``
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from libs.common.config import NAMESPACE_PATTERN, ServiceSettings
from libs.common.ids import partition

DAY_S = 86_400.0
PARTITION_PLACEHOLDER = "<k>"
"""Where a partition's number goes in the documented name of a partitioned consumer."""


class Durables:
    """The names of the durable consumers on EVENTS, one place for the services that create
    them, the NATS permissions and the documents (`Topology.durables`). The partitioned ones
    of INTENTS and ORDERS are `Topology.consumer_name` (``router-p3``)."""

    ROUTER_POSITIONS = "router-positions"
    ROUTER_DRIFTS = "router-drifts"
    EXECUTOR_TENANTS = "executor-tenants"
    LEDGER = "ledger"
    BILLING_USAGE = "billing-usage"
    NOTIFIER = "notifier"


_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What a stream holds and for how long."""

    name: str
    subjects: tuple[str, ...]
    duplicate_window_s: float
    max_age_s: float  # 0 keeps messages forever
    description: str


@dataclass(frozen=True, slots=True)
class DurableSpec:
    """A durable consumer as the documents show it: who reads what, and why.

    A partitioned one exists once per partition: ``durable`` and ``filter_subject`` then hold
    ``<k>`` where the partition goes (`Topology.consumer_name`, `Topology.intents_filter`).
    """

    durable: str
    stream: str
    filter_subject: str
    service: str
    """The process that reads it (a user of `libs.common.nats_access`)."""
    description: str
    partitioned: bool = False


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """A KV bucket as the documents show it: its keys and what each holds."""

    name: str
    keys: str
    description: str


@dataclass(frozen=True, slots=True)
class Topology:
    """Names of one deployment (or one test) on a NATS server."""

    namespace: str = "sparky"
    partitions: int = 16
    intents_duplicate_window_s: float = 60.0
    events_max_age_s: float = 0.0
    replicas: int = 1

    def __post_init__(self) -> None:
        if not _NAMESPACE_RE.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} must match {NAMESPACE_PATTERN}")
        if self.partitions < 1:
            raise ValueError("partitions must be at least 1")

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Topology:
        """Build the topology a service's settings describe."""
        return cls(
            namespace=settings.namespace,
            partitions=settings.partitions,
            intents_duplicate_window_s=settings.intents_duplicate_window_s,
            events_max_age_s=settings.events_max_age_days * DAY_S,
            replicas=settings.nats_replicas,
        )

    # Streams ---------------------------------------------------------------------------------
    @property
    def intents_stream(self) -> str:
        return f"{self.namespace}_INTENTS"

    @property
    def orders_stream(self) -> str:
        return f"{self.namespace}_ORDERS"

    @property
    def events_stream(self) -> str:
        return f"{self.namespace}_EVENTS"

    @property
    def deadletter_stream(self) -> str:
        return f"{self.namespace}_DEADLETTER"

    def streams(self) -> tuple[StreamSpec, ...]:
        """Return the specification of every stream of the deployment."""
        ns = self.namespace
        return (
            StreamSpec(
                self.intents_stream,
                (f"{ns}.intents.>",),
                self.intents_duplicate_window_s,
                7 * DAY_S,
                "Authenticated alerts waiting for the router",
            ),
            StreamSpec(
                self.orders_stream,
                (f"{ns}.orders.>",),
                300.0,
                7 * DAY_S,
                "Orders the router decided, waiting for an executor",
            ),
            StreamSpec(
                self.events_stream,
                (f"{ns}.events.>",),
                300.0,
                self.events_max_age_s,
                "Everything that happened; the ledger is rebuilt from it",
            ),
            StreamSpec(
                self.deadletter_stream,
                (f"{ns}.dlq.>",),
                120.0,
                30 * DAY_S,
                "Messages that failed max_deliver times, for an operator",
            ),
        )

    # Subjects --------------------------------------------------------------------------------
    def partition_of(self, tenant_id: str) -> int:
        """Return the partition that owns ``tenant_id``."""
        return partition(tenant_id, self.partitions)

    def intent_subject(self, tenant_id: str) -> str:
        return f"{self.namespace}.intents.{self.partition_of(tenant_id)}.{tenant_id}"

    def intents_filter(self, p: int) -> str:
        """Return the subject filter of one partition of INTENTS."""
        return f"{self.namespace}.intents.{p}.*"

    def order_subject(self, tenant_id: str) -> str:
        return f"{self.namespace}.orders.{self.partition_of(tenant_id)}.{tenant_id}"

    def orders_filter(self, p: int) -> str:
        """Return the subject filter of one partition of ORDERS."""
        return f"{self.namespace}.orders.{p}.*"

    def event_subject(self, tenant_id: str, kind: str) -> str:
        return f"{self.namespace}.events.{tenant_id}.{kind}"

    @property
    def events_filter(self) -> str:
        return f"{self.namespace}.events.>"

    def kind_filter(self, kind: str) -> str:
        """Return the subject filter of every tenant's events of ``kind``."""
        return f"{self.namespace}.events.*.{kind}"

    def tenant_events_filter(self, tenant_id: str) -> str:
        return f"{self.namespace}.events.{tenant_id}.>"

    def deadletter_subject(self, stream: str) -> str:
        """Return where poison messages of ``stream`` (its base name, e.g. INTENTS) go."""
        return f"{self.namespace}.dlq.{stream.lower()}"

    @staticmethod
    def consumer_name(service: str, p: int) -> str:
        """Return the durable consumer name of ``service`` for partition ``p`` (``router-p3``)."""
        return f"{service}-p{p}"

    def durables(self) -> tuple[DurableSpec, ...]:
        """Return every durable consumer the services create, for the documents."""
        ns, k = self.namespace, PARTITION_PLACEHOLDER
        return (
            DurableSpec(
                f"router-p{k}",
                self.intents_stream,
                f"{ns}.intents.{k}.*",
                "router",
                "One per partition: the router's intents, in order per tenant and market",
                partitioned=True,
            ),
            DurableSpec(
                f"executor-p{k}",
                self.orders_stream,
                f"{ns}.orders.{k}.*",
                "executor",
                "One per partition: the orders the trading executor places or cancels",
                partitioned=True,
            ),
            DurableSpec(
                Durables.ROUTER_POSITIONS,
                self.events_stream,
                self.kind_filter("order.filled"),
                "router",
                "The router's eventually consistent view of positions: each fill once by trade "
                "id, net of a fee in the coin",
            ),
            DurableSpec(
                Durables.ROUTER_DRIFTS,
                self.events_stream,
                self.kind_filter("position.drift"),
                "router",
                "Coins the executor wrote off, taken off the router's positions",
            ),
            DurableSpec(
                Durables.EXECUTOR_TENANTS,
                self.events_stream,
                self.kind_filter("tenant.deleted"),
                "accounts",
                "The executor's accounts process purges a deleted tenant's exchange accounts and "
                "their Vault secrets",
            ),
            DurableSpec(
                Durables.LEDGER,
                self.events_stream,
                self.events_filter,
                "ledger",
                "The ledger's projections; re-created at the last applied sequence + 1 when a "
                "projector takes the lead",
            ),
            DurableSpec(
                Durables.BILLING_USAGE,
                self.events_stream,
                self.events_filter,
                "billing",
                "Usage counts",
            ),
            DurableSpec(
                Durables.NOTIFIER,
                self.events_stream,
                self.events_filter,
                "notifier",
                "One delivery row per (event, channel that wants it), in the batch's transaction; "
                "the notifier's NATS user may use this consumer only",
            ),
        )

    # KV buckets ------------------------------------------------------------------------------
    @property
    def tenants_bucket(self) -> str:
        return f"{self.namespace}_tenants"

    @property
    def webhook_tokens_bucket(self) -> str:
        return f"{self.namespace}_webhook-tokens"

    @property
    def api_keys_bucket(self) -> str:
        return f"{self.namespace}_api-keys"

    @property
    def accounts_bucket(self) -> str:
        return f"{self.namespace}_accounts"

    @property
    def router_settings_bucket(self) -> str:
        """The router's own bucket of settings versions (it creates it; not in `buckets`)."""
        return f"{self.namespace}_router-settings"

    def bucket_specs(self) -> tuple[BucketSpec, ...]:
        """Return every KV bucket with what it holds, for the documents."""
        return (
            BucketSpec(self.tenants_bucket, "tenant id", "`TenantRecord`: status, plan, limits"),
            BucketSpec(
                self.webhook_tokens_bucket,
                "sha256(token) hex",
                "`WebhookTokenRecord`: tenant, webhook id, allowed IPs, status",
            ),
            BucketSpec(self.api_keys_bucket, "sha256(key) hex", "`ApiKeyRecord`"),
            BucketSpec(
                self.accounts_bucket,
                "`<tenant>.<hex(label)>`",
                "`AccountRecord`: exchange id, mode, spot/futures, validation status; never keys",
            ),
            BucketSpec(
                self.router_settings_bucket,
                "tenant id",
                "the id of the tenant's latest trade-settings change; every router replica "
                "watches it (cache invalidation within 2 s)",
            ),
        )

    def buckets(self) -> tuple[str, ...]:
        return (
            self.tenants_bucket,
            self.webhook_tokens_bucket,
            self.api_keys_bucket,
            self.accounts_bucket,
        )
