"""The synced columns, once: what the store writes, what the API serves, what OpenAPI says.

The columns are the Tortoise models' (models/shopdata.py): every field but the row's key,
its shop and the full sync's bookkeeping, in the model's order, typed by its field class.
`API` below adds what a model cannot say: which tables the data API lists or nests under a
parent, the columns stored but not served, the ones a REST webhook may lack, descriptions.

Adding a synced column: add it to its model (with a migration) and fill it in
server/sync/normalize.py. The store's upsert column lists, the data API's item shape and the
OpenAPI item schema all follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from tortoise import fields
from tortoise.models import Model

from models import shopdata

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


@dataclass(frozen=True, slots=True)
class Api:
    """What the data API does with one synced table, beyond its model's columns."""

    listed: bool = False  # GET /api/<table>
    parent: tuple[str, str] | None = None  # see Table.parent
    nested_as: str | None = None  # see Table.nested_as
    stored_only: tuple[str, ...] = ()  # not served (besides `data`, never served)
    keep_when_missing: tuple[str, ...] = ()  # see Column.keep_when_missing
    descriptions: Mapping[str, str] = field(default_factory=dict)


# Every synced table, in the order the OpenAPI document lists them.
API: Final[dict[str, Api]] = {
    "products": Api(listed=True),
    "product_variants": Api(parent=("products", "product_id"), nested_as="variants"),
    "orders": Api(listed=True),
    "order_line_items": Api(
        parent=("orders", "order_id"),
        nested_as="line_items",
        stored_only=("customer_id",),  # the order's, for privacy rules
    ),
    "transactions": Api(
        listed=True,
        parent=("orders", "order_id"),
        descriptions={"updated_at": "the order's updatedAt"},
    ),
    "customers": Api(
        listed=True,
        keep_when_missing=("orders_count", "amount_spent", "currency", "verified_email"),
    ),
}

_SQL_TYPES: dict[type[fields.Field], SqlType] = {  # type: ignore[type-arg]
    fields.BigIntField: "bigint",
    fields.IntField: "int",
    fields.TextField: "text",
    fields.CharField: "text",
    fields.BooleanField: "bool",
    fields.DatetimeField: "timestamptz",
    fields.JSONField: "jsonb",
    fields.DecimalField: "numeric",
}
# Model fields that are not synced columns: the key, the owner and the full sync's bookkeeping.
NOT_SYNCED: Final = frozenset({"id", "shop", "shop_id", "seen_run_id", "synced_at"})


def table_of(model: type[Model], api: Api) -> Table:
    """The synced table of one model; a name in `api` that is not its column is an error."""
    name = model._meta.db_table
    synced = {n: f for n, f in model._meta.fields_map.items() if n not in NOT_SYNCED}
    named = {*api.stored_only, *api.keep_when_missing, *api.descriptions}
    if api.parent is not None:
        named.add(api.parent[1])
    unknown = sorted(named - set(synced))
    if unknown:
        raise ValueError(f"columns.API[{name!r}] names {unknown}, not columns of {model.__name__}")
    columns = tuple(
        Column(
            column,
            _SQL_TYPES[type(f)],
            null=f.null,
            served=column != "data" and column not in api.stored_only,
            keep_when_missing=column in api.keep_when_missing,
            description=api.descriptions.get(column),
        )
        for column, f in synced.items()
    )
    return Table(name, columns, parent=api.parent, nested_as=api.nested_as, listed=api.listed)


def synced_models() -> dict[str, type[Model]]:
    """models/shopdata.py's models by table name."""
    return {
        value._meta.db_table: value
        for value in vars(shopdata).values()
        if isinstance(value, type) and issubclass(value, Model) and value is not Model
    }


_MODELS = synced_models()
TABLES: Final[dict[str, Table]] = {name: table_of(_MODELS[name], api) for name, api in API.items()}
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
    "API",
    "LISTED",
    "TABLES",
    "Api",
    "Column",
    "Table",
    "children",
    "item_schema",
    "nested",
    "served",
]
