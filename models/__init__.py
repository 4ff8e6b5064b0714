"""Tortoise ORM models, one domain per module. Aerich reads every model listed here."""

from models.billing import BillingCharge, BillingUsageCharge
from models.compliance import ComplianceRequest, PrivacyAudit, RedactedIdentity
from models.flow import FlowActionRun
from models.pixel import (
    PixelDailyAggregate,
    PixelDailyRevenue,
    PixelDayClient,
    PixelEvent,
    PixelPending,
    WebPixel,
    WebPixelVersion,
)
from models.shop import Shop
from models.shopdata import (
    Customer,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
    SyncTombstone,
    Transaction,
)
from models.staff import OnlineToken
from models.sync import SyncRun
from models.webhooks import WebhookDelivery

__all__ = [
    "BillingCharge",
    "BillingUsageCharge",
    "ComplianceRequest",
    "Customer",
    "FlowActionRun",
    "OnlineToken",
    "Order",
    "OrderLineItem",
    "PixelDailyAggregate",
    "PixelDailyRevenue",
    "PixelDayClient",
    "PixelEvent",
    "PixelPending",
    "PrivacyAudit",
    "Product",
    "ProductVariant",
    "RedactedIdentity",
    "Shop",
    "SyncRun",
    "SyncTombstone",
    "Transaction",
    "WebPixel",
    "WebPixelVersion",
    "WebhookDelivery",
]
