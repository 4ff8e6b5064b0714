"""A shop's synced Shopify data: products (and variants), orders (line items, transactions),
customers. Unique on (shop, Shopify id); `updated_at` is Shopify's `updatedAt`; the fields the
API serves are columns and the rest of Shopify's object stays in `data`.

Rows are written only by server/sync/store.py (bulk upserts in raw SQL); the models exist for
the schema (Aerich) and for privacy rules.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule


class Product(Model):
    """A product as Shopify last described it."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    title = fields.TextField(default="")
    handle = fields.CharField(max_length=255, default="")
    status = fields.CharField(max_length=32, default="")
    vendor = fields.CharField(max_length=255, default="")
    product_type = fields.CharField(max_length=255, default="")
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    seen_run_id = fields.BigIntField(null=True)
    synced_at = fields.DatetimeField()

    privacy: ClassVar[PrivacyRule] = PrivacyRule()

    class Meta:
        table = "products"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "updated_at", "shopify_id"),)


class ProductVariant(Model):
    """One variant of a product (`product_id` is Shopify's product id)."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    product_id = fields.BigIntField()
    title = fields.TextField(default="")
    sku = fields.CharField(max_length=255, default="")
    price = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    inventory_quantity = fields.IntField(null=True)
    updated_at = fields.DatetimeField(null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    privacy: ClassVar[PrivacyRule] = PrivacyRule()

    class Meta:
        table = "product_variants"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "product_id"),)


class Order(Model):
    """An order as Shopify last described it."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    name = fields.CharField(max_length=64, default="")
    email = fields.CharField(max_length=320, null=True)
    customer_id = fields.BigIntField(null=True)
    financial_status = fields.CharField(max_length=64, default="")
    fulfillment_status = fields.CharField(max_length=64, default="")
    currency = fields.CharField(max_length=8, default="")
    total_price = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    created_at = fields.DatetimeField(null=True)
    processed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    seen_run_id = fields.BigIntField(null=True)
    synced_at = fields.DatetimeField()

    # Orders stay for the merchant's books; the customer's identity goes.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "customer_id", "email": "email"},
        on_customer_redact="anonymise",
        anonymise={"email": None, "customer_id": None, "data": {}},
        export=True,
    )

    class Meta:
        table = "orders"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "updated_at", "shopify_id"), ("shop", "customer_id"))


class OrderLineItem(Model):
    """One line of an order (`order_id` is Shopify's order id; `customer_id` the order's)."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    order_id = fields.BigIntField()
    customer_id = fields.BigIntField(null=True)
    title = fields.TextField(default="")
    quantity = fields.IntField(default=0)
    sku = fields.CharField(max_length=255, default="")
    variant_id = fields.BigIntField(null=True)
    price = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "customer_id"},
        on_customer_redact="anonymise",
        anonymise={"customer_id": None},
        export=True,
    )

    class Meta:
        table = "order_line_items"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "order_id"),)


class Transaction(Model):
    """A payment transaction of an order; `updated_at` is its order's `updatedAt`."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    order_id = fields.BigIntField()
    customer_id = fields.BigIntField(null=True)
    kind = fields.CharField(max_length=32, default="")
    status = fields.CharField(max_length=32, default="")
    gateway = fields.CharField(max_length=255, default="")
    amount = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    currency = fields.CharField(max_length=8, default="")
    test = fields.BooleanField(default=False)
    parent_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(null=True)
    processed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "customer_id"},
        on_customer_redact="anonymise",
        anonymise={"customer_id": None},
        export=True,
    )

    class Meta:
        table = "transactions"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "updated_at", "shopify_id"), ("shop", "order_id"))


class Customer(Model):
    """A customer as Shopify last described them."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    shopify_id = fields.BigIntField()
    email = fields.CharField(max_length=320, null=True)
    first_name = fields.CharField(max_length=255, default="")
    last_name = fields.CharField(max_length=255, default="")
    state = fields.CharField(max_length=32, default="")
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    orders_count = fields.BigIntField(null=True)
    amount_spent = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    currency = fields.CharField(max_length=8, default="")
    verified_email = fields.BooleanField(null=True)
    created_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    seen_run_id = fields.BigIntField(null=True)
    synced_at = fields.DatetimeField()

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "shopify_id", "email": "email"},
        on_customer_redact="delete",
        export=True,
    )

    class Meta:
        table = "customers"
        unique_together = (("shop", "shopify_id"),)
        indexes = (("shop", "updated_at", "shopify_id"),)


class SyncTombstone(Model):
    """A deleted object (delete webhook): older updates arriving later must not revive it."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    resource = fields.CharField(max_length=16)
    shopify_id = fields.BigIntField()
    deleted_at = fields.DatetimeField()

    privacy: ClassVar[PrivacyRule] = PrivacyRule()

    class Meta:
        table = "sync_tombstones"
        unique_together = (("shop", "resource", "shopify_id"),)
