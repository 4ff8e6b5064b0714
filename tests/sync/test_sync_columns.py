"""The synced columns (server/sync/columns.py) are the models' fields, with the API's table."""

from __future__ import annotations

import pytest
from tortoise import fields
from tortoise.models import Model

from server.sync import columns
from server.web.openapi import ITEM_SCHEMAS


def test_every_shopdata_model_but_the_tombstones_is_synced() -> None:
    # A new model in models/shopdata.py without an entry in columns.API would never be written.
    assert set(columns.synced_models()) - {"sync_tombstones"} == set(columns.API)


def test_a_table_is_its_model_fields_in_order() -> None:
    variants = columns.TABLES["product_variants"]
    assert [(c.name, c.sql, c.null) for c in variants.columns] == [
        ("shopify_id", "bigint", False),
        ("product_id", "bigint", False),
        ("title", "text", False),
        ("sku", "text", False),  # a CharField is text
        ("price", "numeric", True),
        ("inventory_quantity", "int", True),
        ("updated_at", "timestamptz", True),
        ("data", "jsonb", False),
    ]
    assert variants.parent == ("products", "product_id")
    customers = {c.name: c for c in columns.TABLES["customers"].columns}
    assert {n for n, c in customers.items() if c.keep_when_missing} == {
        "orders_count",
        "amount_spent",
        "currency",
        "verified_email",
    }
    assert not {"id", "shop", "seen_run_id", "synced_at"} & set(customers)


def test_the_api_table_names_only_columns_of_the_model() -> None:
    class Widget(Model):
        id = fields.BigIntField(primary_key=True)
        shopify_id = fields.BigIntField()

        class Meta:
            app = "columns_test"
            table = "widgets"

    with pytest.raises(ValueError, match=r"widgets.*\['colour'\]"):
        columns.table_of(Widget, columns.Api(stored_only=("colour",)))
    assert [c.name for c in columns.table_of(Widget, columns.Api()).columns] == ["shopify_id"]


def test_item_schemas_follow_the_registry() -> None:
    assert (
        set(ITEM_SCHEMAS)
        == set(columns.LISTED)
        == {
            "products",
            "orders",
            "transactions",
            "customers",
        }
    )
    products = ITEM_SCHEMAS["products"]["properties"]
    served = ["id" if c == "shopify_id" else c for c in columns.served("products")]
    assert list(products) == [*served, "variants"]
    assert "data" not in products
    line_items = ITEM_SCHEMAS["orders"]["properties"]["line_items"]["items"]["properties"]
    assert "customer_id" not in line_items  # stored for privacy rules, not served
