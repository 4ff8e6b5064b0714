"""Tortoise ORM models, one domain per module. Aerich reads every model listed here."""

from models.shop import Shop

__all__ = ["Shop"]
