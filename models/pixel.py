"""The Web Pixel extension per shop, the events it posts, and their daily aggregates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.privacy import PrivacyRule

if TYPE_CHECKING:
    from models.shop import Shop

PIXEL_STATUS_ACTIVE = "active"
PIXEL_STATUS_INACTIVE = "inactive"


class WebPixel(Model):
    """The shop's web pixel: its Shopify id, settings and the public key its events carry."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.OneToOneRelation[Shop] = fields.OneToOneField(
        "models.Shop", related_name="web_pixel", on_delete=fields.CASCADE
    )
    shop_id: int
    # Shopify's gid://shopify/WebPixel/...; None until webPixelCreate succeeded.
    web_pixel_id = fields.CharField(max_length=255, null=True)
    status = fields.CharField(max_length=16, default=PIXEL_STATUS_INACTIVE)
    settings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # Public by design (it ships in the storefront's pixel settings); it only lets a client
    # post events for this shop, and stops being accepted on deactivation.
    ingest_key = fields.CharField(max_length=64, unique=True)
    version = fields.CharField(max_length=32, null=True)
    activated_at = fields.DatetimeField(null=True)
    deactivated_at = fields.DatetimeField(null=True)
    last_event_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "web_pixels"

    @property
    def active(self) -> bool:
        return self.status == PIXEL_STATUS_ACTIVE


class WebPixelVersion(Model):
    """One extension version seen posting events for a shop (the version history)."""

    id = fields.BigIntField(primary_key=True)
    web_pixel: fields.ForeignKeyRelation[WebPixel] = fields.ForeignKeyField(
        "models.WebPixel", related_name="versions", on_delete=fields.CASCADE
    )
    web_pixel_id: int
    version = fields.CharField(max_length=32)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="web_pixel__shop_id")

    class Meta:
        table = "web_pixel_versions"
        unique_together = (("web_pixel", "version"),)


class PixelEvent(Model):
    """One customer event as the pixel posted it (sanitised); unique per shop and event id."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="pixel_events", on_delete=fields.CASCADE, db_index=False
    )
    shop_id: int
    event_id = fields.CharField(max_length=255)
    name = fields.CharField(max_length=255)
    timestamp = fields.DatetimeField()
    client_id = fields.CharField(max_length=255)
    seq = fields.BigIntField()
    type = fields.CharField(max_length=16)
    context: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    received_at = fields.DatetimeField()
    # Who the event names, when it does (checkout events carry the buyer's e-mail/phone):
    # the keys privacy requests find a customer's events by.
    customer_email = fields.CharField(max_length=320, null=True)
    customer_phone = fields.CharField(max_length=64, null=True)

    # The browser (clientId) that a checkout tied to a customer: its other events are theirs.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        shop_field="shop_id",
        customer_fields={"email": "customer_email", "phone": "customer_phone"},
        linked_by="client_id",
        on_customer_redact="delete",
        export=True,
    )

    class Meta:
        table = "pixel_events"
        # The dedup key the ingest's ON CONFLICT relies on. The table is partitioned by day
        # of `timestamp` (migrations/models/4_*), and PostgreSQL's unique keys on a
        # partitioned table must hold the partition key: an event's id comes with its own
        # timestamp, which a resend repeats, so (shop, event id, timestamp) dedups as
        # (shop, event id) did.
        unique_together = (("shop", "event_id", "timestamp"),)
        # Every index is paid by every accepted event. Nothing reads one shop's raw events by
        # time (aggregation reads the inbox, the summary the aggregates; the daily partitions
        # and the dedup key's shop prefix serve the rest), so there is no (shop, timestamp)
        # index. Redaction finds a customer's events by client id (every event has one) and
        # by e-mail through `idx_pixel_events_shop_email`, which migration 9 makes partial
        # (`WHERE customer_email IS NOT NULL`: most events carry none). Tortoise cannot
        # declare a partial index with that condition, so it lives in the migration alone.
        indexes = (Index(fields=("shop_id", "client_id"), name="idx_pixel_events_shop_client"),)


class PixelDailyAggregate(Model):
    """Per shop, UTC day and event name: how many events and distinct clients."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop",
        related_name="pixel_daily_aggregates",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    shop_id: int
    day = fields.DateField()
    name = fields.CharField(max_length=255)
    count = fields.BigIntField()
    distinct_clients = fields.BigIntField()
    updated_at = fields.DatetimeField(auto_now=True)

    # Counts only: nothing of a customer, so customer redaction leaves them.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "pixel_daily_aggregates"
        unique_together = (("shop", "day", "name"),)


class PixelDailyRevenue(Model):
    """Per shop, UTC day and currency: completed checkouts and their revenue."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="pixel_daily_revenue", on_delete=fields.CASCADE, db_index=False
    )
    shop_id: int
    day = fields.DateField()
    currency = fields.CharField(max_length=8)
    orders = fields.BigIntField()
    revenue = fields.DecimalField(max_digits=20, decimal_places=4)
    updated_at = fields.DatetimeField(auto_now=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "pixel_daily_revenue"
        unique_together = (("shop", "day", "currency"),)


PIPELINE_PENDING = "pending"
PIPELINE_FAILED = "failed"


class PixelPending(Model):
    """New events not yet folded into the daily aggregates: the pixel pipeline's queue.

    Each ingest flush appends, in the transaction that stores its events, one row per
    (shop, UTC day, event name, client, currency, pixel version) of the events it stored
    for the first time. An aggregation step claims rows, adds them to the aggregates and
    deletes them in one transaction, so each event is counted exactly once, and the cost of
    a step is that of the rows it takes, never of the day's total. Rows commit in any
    order; a step takes whatever is committed, so no watermark can skip one.
    """

    id = fields.BigIntField(primary_key=True)
    shop_id = fields.BigIntField()
    day = fields.DateField()
    name = fields.CharField(max_length=255)
    client_id = fields.CharField(max_length=255, null=True)  # None once redacted
    events = fields.IntField()
    # checkout_completed only: its currency (when valid), orders and revenue in it.
    currency = fields.CharField(max_length=8, null=True)
    orders = fields.IntField(default=0)
    revenue = fields.DecimalField(max_digits=20, decimal_places=4, default=0)
    version = fields.CharField(max_length=32, default="")  # "" when the pixel sent none
    first_at = fields.DatetimeField()  # received_at of the first and last events
    last_at = fields.DatetimeField()
    state = fields.CharField(max_length=16, default=PIPELINE_PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "pixel_pending"
        table_description = "Events stored but not yet folded into the daily aggregates."


class PixelDayClient(Model):
    """The clients seen per shop, UTC day and event name: exact distinct counts, incrementally.

    A step inserts the clients of the rows it folds (ON CONFLICT DO NOTHING); the inserts
    that happen are the new distinct clients. Kept only while events of the day can still
    arrive (`pixel.MAX_EVENT_AGE`), then deleted.

    One row per (shop, day, name, client) is enforced by an exclusion constraint over a hash
    index, `pixel_day_clients_key` (migrations/models/5_*; Tortoise cannot declare it), not
    by a b-tree unique index: each fold probes it once per client, at a random place, so its
    size is what a busy day's step pays in cache misses. A hash index entry holds a 4-byte
    hash code whatever the key's length (about 30 bytes per client, against 80 and more for
    the b-tree of the four columns); a probe rechecks the row itself, so the key stays exact.
    """

    id = fields.BigIntField(primary_key=True)
    shop_id = fields.BigIntField()
    day = fields.DateField()
    name = fields.CharField(max_length=255)
    client_id = fields.CharField(max_length=255)

    # A browser id a checkout can tie to a customer: deleted with the customer's events.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "pixel_day_clients"
        table_description = "Clients seen per shop, day and event name (distinct counts)."
        indexes = (("day",),)
