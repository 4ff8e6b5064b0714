"""Tortoise ORM models, one domain per module. Aerich reads every model listed here."""

from models.compliance import ComplianceRequest, PrivacyAudit
from models.pixel import (
    PixelDailyAggregate,
    PixelDailyRevenue,
    PixelEvent,
    WebPixel,
    WebPixelVersion,
)
from models.shop import Shop
from models.webhooks import WebhookDelivery

__all__ = [
    "ComplianceRequest",
    "PixelDailyAggregate",
    "PixelDailyRevenue",
    "PixelEvent",
    "PrivacyAudit",
    "Shop",
    "WebPixel",
    "WebPixelVersion",
    "WebhookDelivery",
]
