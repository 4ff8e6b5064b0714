"""Webhook deliveries as received: the dedup key, the outbox of work, and its state."""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.contrib.postgres.indexes import PostgreSQLIndex
from tortoise.models import Model

from models.privacy import PrivacyRule

# A delivery's life: pending (committed, waiting for a worker; retried while it fails) ->
# done (its effect committed), or failed (gave up; `deliveries retry` replays it).
# Two more are written by SQL only: ignored (a topic nothing handles: the intake and
# server/webhooks/processing.py) and redacted (a customers/redact reached it while pending,
# so it is never applied: server/privacy/requests.py).
DELIVERY_PENDING = "pending"
DELIVERY_DONE = "done"
DELIVERY_FAILED = "failed"


class WebhookDelivery(Model):
    """One webhook event as Shopify delivered it; unique per shop, topic and event id.

    The row is the outbox: the web process commits the whole delivery (payload included)
    before it answers 200, and workers claim pending rows, apply them and mark them done in
    the same transaction as their effect. The payload is purged after its retention; the
    row (the dedup key) stays longer.
    """

    id = fields.BigIntField(primary_key=True)
    shop_domain = fields.CharField(max_length=255)
    topic = fields.CharField(max_length=128)
    # X-Shopify-Event-Id, else X-Shopify-Webhook-Id: the dedup key.
    event_id = fields.CharField(max_length=255)
    webhook_id = fields.CharField(max_length=255, default="")
    api_version = fields.CharField(max_length=32, default="")
    triggered_at = fields.DatetimeField(null=True)
    received_at = fields.DatetimeField()
    state = fields.CharField(max_length=16, default=DELIVERY_PENDING)
    # The raw JSON body as Shopify signed it (text, so any valid JSON is kept as sent);
    # None for ignored topics and once purged.
    payload = fields.TextField(null=True)
    attempts = fields.IntField(default=0)
    # The last failure's exception type and message (never logged).
    last_error = fields.CharField(max_length=255, null=True)
    # While pending: when the sweeper sends it to a worker again if it is not done by then.
    next_attempt_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)
    # Later copies of the same event (Shopify's retries, concurrent duplicates).
    duplicates = fields.IntField(default=0)
    last_duplicate_at = fields.DatetimeField(null=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_domain")

    class Meta:
        table = "webhook_deliveries"
        table_description = "Every webhook delivery received: the dedup key and the outbox."
        unique_together = (("shop_domain", "topic", "event_id"),)
        # No (shop, received_at) index: a shop's deliveries are found through the dedup key's
        # (shop, topic) prefix (redaction, the uninstall a redaction follows), retention goes
        # by id; each index is paid by every delivery the intake takes (migration 9).
        indexes = (
            # The sweeper's and the metrics' reads: small, whatever the table holds.
            PostgreSQLIndex(
                fields=("next_attempt_at",),
                condition={"state": DELIVERY_PENDING},
                name="idx_webhook_deliveries_due",
            ),
            PostgreSQLIndex(
                fields=("id",),
                condition={"state": DELIVERY_FAILED},
                name="idx_webhook_deliveries_failed",
            ),
        )
