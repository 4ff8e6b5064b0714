"""The synced columns, once: what the store writes, what the API serves, what OpenAPI says.

Adding a synced column: add it to the table here and to its Tortoise model in
models/shopdata.py (with a migration), and fill it in server/sync/normalize.py. The store's
upsert column lists, the data API's item shape and the OpenAPI item schema all follow from
this registry; tests/sync/test_sync_columns.py checks it against the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

SqlType = Literal["bigint", "int", "text", "bool", "timestamptz", "jsonb", "numeric"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a synced table."""

    name: str
    sql: SqlType
    null: bool = False
    # Served by the data API (as "id" for shopify_id); `data` (the rest of Shopify's
    # object) is stored only.
    served: bool = True
    # REST webhook payloads may lack it: an upsert keeps the stored value instead of NULL.
    keep_when_missing: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A synced table: its columns and, for children, the parent they belong to."""

    name: str
    columns: tuple[Column, ...]
    # (parent table, column holding the parent's Shopify id): deleted and replaced with it.
    parent: tuple[str, str] | None = None
    # The key under which the parent's API item nests these rows (None: not nested).
    nested_as: str | None = None
    # Served as its own list, GET /api/<name>.
    listed: bool = False


def _col(name: str, sql: SqlType, **options: Any) -> Column:
    return Column(name, sql, **options)


_ID = _col("shopify_id", "bigint")
_DATA = _col("data", "jsonb", served=False)
_CREATED = _col("created_at", "timestamptz", null=True)
_UPDATED = _col("updated_at", "timestamptz")

TABLES: Final[dict[str, Table]] = {
    t.name: t
    for t in (
        Table(
            "products",
            (
                _ID,
                _col("title", "text"),
                _col("handle", "text"),
                _col("status", "text"),
                _col("vendor", "text"),
                _col("product_type", "text"),
                _col("tags", "jsonb"),
                _CREATED,
                _UPDATED,
                _DATA,
            ),
            listed=True,
        ),
        Table(
            "product_variants",
            (
                _ID,
                _col("product_id", "bigint"),
                _col("title", "text"),
                _col("sku", "text"),
                _col("price", "numeric", null=True),
                _col("inventory_quantity", "int", null=True),
                _col("updated_at", "timestamptz", null=True),
                _DATA,
            ),
            parent=("products", "product_id"),
            nested_as="variants",
        ),
        Table(
            "orders",
            (
                _ID,
                _col("name", "text"),
                _col("email", "text", null=True),
                _col("customer_id", "bigint", null=True),
                _col("financial_status", "text"),
                _col("fulfillment_status", "text"),
                _col("currency", "text"),
                _col("total_price", "numeric", null=True),
                _CREATED,
                _col("processed_at", "timestamptz", null=True),
                _col("cancelled_at", "timestamptz", null=True),
                _UPDATED,
                _DATA,
            ),
            listed=True,
        ),
        Table(
            "order_line_items",
            (
                _ID,
                _col("order_id", "bigint"),
                _col("customer_id", "bigint", null=True, served=False),
                _col("title", "text"),
                _col("quantity", "int"),
                _col("sku", "text"),
                _col("variant_id", "bigint", null=True),
                _col("price", "numeric", null=True),
                _DATA,
            ),
            parent=("orders", "order_id"),
            nested_as="line_items",
        ),
        Table(
            "transactions",
            (
                _ID,
                _col("order_id", "bigint"),
                _col("customer_id", "bigint", null=True),
                _col("kind", "text"),
                _col("status", "text"),
                _col("gateway", "text"),
                _col("amount", "numeric", null=True),
                _col("currency", "text"),
                _col("test", "bool"),
                _col("parent_id", "bigint", null=True),
                _CREATED,
                _col("processed_at", "timestamptz", null=True),
                _col("updated_at", "timestamptz", description="the order's updatedAt"),
                _DATA,
            ),
            parent=("orders", "order_id"),
            listed=True,
        ),
        Table(
            "customers",
            (
                _ID,
                _col("email", "text", null=True),
                _col("first_name", "text"),
                _col("last_name", "text"),
                _col("state", "text"),
                _col("tags", "jsonb"),
                _col("orders_count", "bigint", null=True, keep_when_missing=True),
                _col("amount_spent", "numeric", null=True, keep_when_missing=True),
                _col("currency", "text", keep_when_missing=True),
                _col("verified_email", "bool", null=True, keep_when_missing=True),
                _CREATED,
                _UPDATED,
                _DATA,
            ),
            listed=True,
        ),
    )
}
# The lists GET /api/<resource> serves, in the order the OpenAPI document lists them.
LISTED: Final[tuple[str, ...]] = tuple(name for name, t in TABLES.items() if t.listed)


def children(table: str) -> tuple[Table, ...]:
    """The tables whose rows belong to `table`'s rows (replaced and deleted with them)."""
    return tuple(t for t in TABLES.values() if t.parent is not None and t.parent[0] == table)


def nested(table: str) -> Table | None:
    """The child table a `table` API item nests (variants, line items), if any."""
    return next((t for t in children(table) if t.nested_as is not None), None)


def served(table: str) -> tuple[str, ...]:
    """The columns the data API serves of `table`, in item order."""
    return tuple(c.name for c in TABLES[table].columns if c.served)


# --- JSON shapes (the API's items and their OpenAPI schemas) ---------------------------

_SCHEMA_TYPES: dict[SqlType, dict[str, Any]] = {
    "bigint": {"type": "integer"},
    "int": {"type": "integer"},
    "text": {"type": "string"},
    "bool": {"type": "boolean"},
    "timestamptz": {"type": "string", "format": "date-time"},
}


def _schema(column: Column) -> dict[str, Any]:
    if column.sql == "jsonb":  # tags: a JSON array of strings
        return {"type": "array", "items": {"type": "string"}}
    if column.sql == "numeric":  # served as a string, whatever the column's nullability
        return {"type": ["string", "null"], "description": "decimal amount in shop currency"}
    schema = dict(_SCHEMA_TYPES[column.sql])
    if column.null:
        schema["type"] = [schema["type"], "null"]
    if column.description:
        schema["description"] = column.description
    return schema


def item_schema(table: str) -> dict[str, Any]:
    """The OpenAPI schema of one API item of `table` (with its nested children)."""
    properties = {
        "id" if c.name == "shopify_id" else c.name: _schema(c)
        for c in TABLES[table].columns
        if c.served
    }
    child = nested(table)
    if child is not None:
        assert child.nested_as is not None
        properties[child.nested_as] = {"type": "array", "items": item_schema(child.name)}
    return {"type": "object", "properties": properties}


__all__ = [
    "LISTED",
    "TABLES",
    "Column",
    "Table",
    "children",
    "item_schema",
    "nested",
    "served",
]
