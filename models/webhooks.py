"""Webhook deliveries as received: the dedup key and the record of every delivery."""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule


class WebhookDelivery(Model):
    """One webhook event as Shopify delivered it; unique per shop, topic and event id.

    Holds metadata only (never the payload): the payload goes to the topic's actor.
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
    # "queued" (handed to the topic's actor) or "ignored" (a topic we do not handle).
    outcome = fields.CharField(max_length=16)
    # Later copies of the same event (Shopify's retries, concurrent duplicates).
    duplicates = fields.IntField(default=0)
    last_duplicate_at = fields.DatetimeField(null=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_domain")

    class Meta:
        table = "webhook_deliveries"
        table_description = "Every webhook delivery received (metadata only); the dedup key."
        unique_together = (("shop_domain", "topic", "event_id"),)
        indexes = (("shop_domain", "received_at"),)
