"""The column registry (server/sync/columns.py) matches the Tortoise models it describes."""

from __future__ import annotations

import pytest
from tortoise import fields
from tortoise.models import Model

from models import shopdata
from server.sync import columns
from server.web.openapi import ITEM_SCHEMAS

_SQL_TYPES: dict[type[fields.Field], str] = {  # type: ignore[type-arg]
    fields.BigIntField: "bigint",
    fields.IntField: "int",
    fields.TextField: "text",
    fields.CharField: "text",
    fields.BooleanField: "bool",
    fields.DatetimeField: "timestamptz",
    fields.JSONField: "jsonb",
    fields.DecimalField: "numeric",
}
# Columns the registry leaves out: the key, the owner and the full sync's bookkeeping.
_NOT_SYNCED = {"id", "shop", "shop_id", "seen_run_id", "synced_at"}


def _models() -> dict[str, type[Model]]:
    found = {}
    for value in vars(shopdata).values():
        if isinstance(value, type) and issubclass(value, Model) and value is not Model:
            found[value._meta.db_table] = value
    return found


@pytest.mark.parametrize("table", sorted(columns.TABLES))
def test_registry_matches_the_model(table: str) -> None:
    model = _models()[table]
    declared = {
        name: field for name, field in model._meta.fields_map.items() if name not in _NOT_SYNCED
    }
    registry = {c.name: c for c in columns.TABLES[table].columns}
    assert list(registry) == [n for n in declared if n in registry], "column order"
    assert set(registry) == set(declared)
    for name, column in registry.items():
        field = declared[name]
        assert column.sql == _SQL_TYPES[type(field)], name
        assert column.null == field.null, name


def test_every_synced_table_is_registered() -> None:
    assert set(_models()) - {"sync_tombstones"} == set(columns.TABLES)


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
