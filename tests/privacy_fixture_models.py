"""Test-only, customer-like tables (the sync's real ones arrive with issue #6).

They give the privacy actors a customer table (deleted), an order table (anonymised) and
an event table that reaches shop and customer only through a join (deleted).
"""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule


class FixtureCustomer(Model):
    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    customer_id = fields.BigIntField()
    email = fields.CharField(max_length=255)
    first_name = fields.CharField(max_length=64)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "customer_id", "email": "email"},
        on_customer_redact="delete",
        export=True,
    )

    class Meta:
        table = "test_fixture_customers"


class FixtureOrder(Model):
    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    order_id = fields.BigIntField()
    customer_id = fields.BigIntField(null=True)
    email = fields.CharField(max_length=255, null=True)
    total = fields.DecimalField(max_digits=12, decimal_places=2)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        customer_fields={"id": "customer_id", "email": "email", "order_id": "order_id"},
        on_customer_redact="anonymise",
        anonymise={"customer_id": None, "email": None},
        export=True,
    )

    class Meta:
        table = "test_fixture_orders"


class FixtureOrderEvent(Model):
    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.FixtureOrder", related_name=False, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        shop_field="order__shop_id",
        customer_fields={"id": "order__customer_id", "order_id": "order__order_id"},
        on_customer_redact="delete",
        export=True,
    )

    class Meta:
        table = "test_fixture_order_events"
