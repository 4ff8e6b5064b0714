"""Tortoise ORM models, one domain per module. Aerich reads every model listed here."""

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
from models.sync import SyncRun

__all__ = [
    "Customer",
    "Order",
    "OrderLineItem",
    "Product",
    "ProductVariant",
    "Shop",
    "SyncRun",
    "SyncTombstone",
    "Transaction",
]
