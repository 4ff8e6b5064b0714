"""Tortoise ORM models, one domain per module. Aerich reads every model listed here."""

from models.pixel import (
    PixelDailyAggregate,
    PixelDailyRevenue,
    PixelEvent,
    WebPixel,
    WebPixelVersion,
)
from models.shop import Shop

__all__ = [
    "PixelDailyAggregate",
    "PixelDailyRevenue",
    "PixelEvent",
    "Shop",
    "WebPixel",
    "WebPixelVersion",
]
