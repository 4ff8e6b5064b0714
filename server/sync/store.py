"""Writes of synced data: one bulk statement per table, in one transaction per batch.

Every upsert is `INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (shop_id, shopify_id)
DO UPDATE ... WHERE excluded.updated_at >= table.updated_at`: older data never replaces
newer, whichever path (sync page, bulk result, webhook) brings it. A tombstone left by a
delete webhook keeps a deleted object from being revived by a late update. Children (variants,
line items, transactions) are replaced only for parents whose row was actually written.
After every write that changed something, the shop's cache version is bumped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.sync import Resource
from server.sync.cache import bump_version
from server.sync.normalize import Row

log = logging.getLogger(__name__)

Column = tuple[str, str]  # (name, type): bigint, int, text, bool, timestamptz, jsonb, numeric

PRODUCT_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("title", "text"),
    ("handle", "text"),
    ("status", "text"),
    ("vendor", "text"),
    ("product_type", "text"),
    ("tags", "jsonb"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("data", "jsonb"),
]
VARIANT_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("product_id", "bigint"),
    ("title", "text"),
    ("sku", "text"),
    ("price", "numeric"),
    ("inventory_quantity", "int"),
    ("updated_at", "timestamptz"),
    ("data", "jsonb"),
]
ORDER_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("name", "text"),
    ("email", "text"),
    ("customer_id", "bigint"),
    ("financial_status", "text"),
    ("fulfillment_status", "text"),
    ("currency", "text"),
    ("total_price", "numeric"),
    ("created_at", "timestamptz"),
    ("processed_at", "timestamptz"),
    ("cancelled_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("data", "jsonb"),
]
LINE_ITEM_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("order_id", "bigint"),
    ("customer_id", "bigint"),
    ("title", "text"),
    ("quantity", "int"),
    ("sku", "text"),
    ("variant_id", "bigint"),
    ("price", "numeric"),
    ("data", "jsonb"),
]
TRANSACTION_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("order_id", "bigint"),
    ("customer_id", "bigint"),
    ("kind", "text"),
    ("status", "text"),
    ("gateway", "text"),
    ("amount", "numeric"),
    ("currency", "text"),
    ("test", "bool"),
    ("parent_id", "bigint"),
    ("created_at", "timestamptz"),
    ("processed_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("data", "jsonb"),
]
CUSTOMER_COLUMNS: list[Column] = [
    ("shopify_id", "bigint"),
    ("email", "text"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("state", "text"),
    ("tags", "jsonb"),
    ("orders_count", "bigint"),
    ("amount_spent", "numeric"),
    ("currency", "text"),
    ("verified_email", "bool"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("data", "jsonb"),
]
# REST customer payloads may lack these: keep what is stored.
_CUSTOMER_COALESCE = frozenset({"orders_count", "amount_spent", "currency", "verified_email"})

# resource -> (table, child tables keyed by parent column)
_TABLES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "products": ("products", (("product_variants", "product_id"),)),
    "orders": ("orders", (("order_line_items", "order_id"), ("transactions", "order_id"))),
    "customers": ("customers", ()),
}


def _upsert_sql(
    table: str,
    columns: Sequence[Column],
    *,
    guard: bool,
    tombstones: str | None = None,
    seen: bool = False,
    coalesce: frozenset[str] = frozenset(),
) -> str:
    names = [name for name, _ in columns]
    arrays = ", ".join(
        f"${i + 2}::{'text' if kind in ('jsonb', 'numeric') else kind}[]"
        for i, (_, kind) in enumerate(columns)
    )
    selects = [
        f"u.{name}::{kind}" if kind in ("jsonb", "numeric") else f"u.{name}"
        for name, kind in columns
    ]
    insert_names = ["shop_id", *names]
    select_list = ["$1", *selects]
    updates = [
        f"{n} = COALESCE(EXCLUDED.{n}, t.{n})" if n in coalesce else f"{n} = EXCLUDED.{n}"
        for n in names
        if n != "shopify_id"
    ]
    if seen:
        extra = len(columns) + 2
        insert_names += ["seen_run_id", "synced_at"]
        select_list += [f"${extra}::bigint", "now()"]
        updates += [
            "seen_run_id = COALESCE(EXCLUDED.seen_run_id, t.seen_run_id)",
            "synced_at = now()",
        ]
    sql = (
        f"INSERT INTO {table} AS t ({', '.join(insert_names)}) "  # noqa: S608 (table and column names are constants)
        f"SELECT {', '.join(select_list)} FROM unnest({arrays}) AS u({', '.join(names)})"
    )
    if tombstones:
        sql += (
            " WHERE NOT EXISTS (SELECT 1 FROM sync_tombstones x WHERE x.shop_id = $1"  # noqa: S608 (table and column names are constants)
            f" AND x.resource = '{tombstones}' AND x.shopify_id = u.shopify_id)"
        )
    sql += f" ON CONFLICT (shop_id, shopify_id) DO UPDATE SET {', '.join(updates)}"
    if guard:
        sql += " WHERE EXCLUDED.updated_at >= t.updated_at"
    return sql + " RETURNING t.shopify_id"


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "jsonb":
        return orjson.dumps(value).decode()
    return value


def _arrays(rows: Sequence[Row], columns: Sequence[Column]) -> list[list[Any]]:
    return [[_value(row[name], kind) for row in rows] for name, kind in columns]


def _latest(rows: Sequence[Row]) -> list[Row]:
    # One statement cannot touch a row twice: keep the newest copy of each id.
    best: dict[int, Row] = {}
    for row in rows:
        current = best.get(row["shopify_id"])
        if current is None or row["updated_at"] >= current["updated_at"]:
            best[row["shopify_id"]] = row
    return list(best.values())


_SQL = {
    "products": _upsert_sql(
        "products", PRODUCT_COLUMNS, guard=True, tombstones="products", seen=True
    ),
    "variants": _upsert_sql("product_variants", VARIANT_COLUMNS, guard=False),
    "orders": _upsert_sql("orders", ORDER_COLUMNS, guard=True, tombstones="orders", seen=True),
    "line_items": _upsert_sql("order_line_items", LINE_ITEM_COLUMNS, guard=False),
    "transactions": _upsert_sql("transactions", TRANSACTION_COLUMNS, guard=False),
    "customers": _upsert_sql(
        "customers",
        CUSTOMER_COLUMNS,
        guard=True,
        tombstones="customers",
        seen=True,
        coalesce=_CUSTOMER_COALESCE,
    ),
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How many objects came in and how many rows were written (newer than what was stored)."""

    received: int
    applied: int


async def _lock_rows(
    conn: BaseDBAsyncClient, shop_id: int, resource: str, *, exclusive: bool
) -> None:
    """Order deletes against upserts of one (shop, resource), until the transaction ends.

    Upserts share the lock; a delete takes it alone. Without it, an upsert that checked for
    a tombstone just before a delete committed could re-insert the deleted row.
    """
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute_query(
        f"SELECT {function}(hashtextextended($1, 0))",
        [f"sync-rows:{shop_id}:{resource}"],
    )


async def _ids(conn: BaseDBAsyncClient, sql: str, params: list[Any]) -> set[int]:
    # execute_query drops the rows of INSERT/UPDATE ... RETURNING; the dict variant keeps them.
    rows = await conn.execute_query_dict(sql, params)
    return {int(r["shopify_id"]) for r in rows}


async def _replace_children(
    conn: BaseDBAsyncClient,
    shop_id: int,
    *,
    table: str,
    parent_column: str,
    parents: Sequence[int],
    children: Sequence[Row],
    sql: str,
    columns: Sequence[Column],
) -> None:
    if not parents:
        return
    keep = [c["shopify_id"] for c in children]
    await conn.execute_query(
        f"DELETE FROM {table} WHERE shop_id = $1 AND {parent_column} = ANY($2::bigint[])"  # noqa: S608 (table and column names are constants)
        " AND NOT (shopify_id = ANY($3::bigint[]))",
        [shop_id, list(parents), keep],
    )
    if children:
        await conn.execute_query(sql, [shop_id, *_arrays(children, columns)])


class SyncStore:
    """Upserts and deletes of one shop's synced rows; bumps the cache version after each."""

    def __init__(self, redis: aioredis.Redis | None) -> None:
        self.redis = redis

    async def _bump(self, shop_id: int) -> None:
        if self.redis is not None:
            await bump_version(self.redis, shop_id)

    async def upsert(
        self, resource: Resource, shop_id: int, rows: Sequence[Row], *, run_id: int | None = None
    ) -> WriteResult:
        """Upsert normalised rows of one resource (with their children) in one transaction."""
        if not rows:
            return WriteResult(0, 0)
        rows = _latest(rows)
        ids = [r["shopify_id"] for r in rows]
        async with in_transaction("default") as conn:
            await _lock_rows(conn, shop_id, resource, exclusive=False)
            if resource == "products":
                applied = await _ids(
                    conn, _SQL["products"], [shop_id, *_arrays(rows, PRODUCT_COLUMNS), run_id]
                )
                written = [r for r in rows if r["shopify_id"] in applied]
                await _replace_children(
                    conn,
                    shop_id,
                    table="product_variants",
                    parent_column="product_id",
                    parents=[r["shopify_id"] for r in written],
                    children=_dedup([v for r in written for v in r["variants"]]),
                    sql=_SQL["variants"],
                    columns=VARIANT_COLUMNS,
                )
            elif resource == "orders":
                applied = await _ids(
                    conn, _SQL["orders"], [shop_id, *_arrays(rows, ORDER_COLUMNS), run_id]
                )
                written = [r for r in rows if r["shopify_id"] in applied]
                await _replace_children(
                    conn,
                    shop_id,
                    table="order_line_items",
                    parent_column="order_id",
                    parents=[r["shopify_id"] for r in written],
                    children=_dedup([li for r in written for li in r["line_items"]]),
                    sql=_SQL["line_items"],
                    columns=LINE_ITEM_COLUMNS,
                )
                with_transactions = [r for r in written if r["transactions"] is not None]
                await _replace_children(
                    conn,
                    shop_id,
                    table="transactions",
                    parent_column="order_id",
                    parents=[r["shopify_id"] for r in with_transactions],
                    children=_dedup([t for r in with_transactions for t in r["transactions"]]),
                    sql=_SQL["transactions"],
                    columns=TRANSACTION_COLUMNS,
                )
            else:
                applied = await _ids(
                    conn, _SQL["customers"], [shop_id, *_arrays(rows, CUSTOMER_COLUMNS), run_id]
                )
            if run_id is not None:
                # Rows newer in the table than in this page still exist in Shopify.
                skipped = [i for i in ids if i not in applied]
                if skipped:
                    table = _TABLES[resource][0]
                    await conn.execute_query(
                        f"UPDATE {table} SET seen_run_id = $2 WHERE shop_id = $1"  # noqa: S608 (table and column names are constants)
                        " AND shopify_id = ANY($3::bigint[])",
                        [shop_id, run_id, skipped],
                    )
        if applied:
            await self._bump(shop_id)
        return WriteResult(received=len(rows), applied=len(applied))

    async def delete(self, resource: Resource, shop_id: int, ids: Sequence[int]) -> int:
        """Delete objects (and children) and leave tombstones; returns rows deleted."""
        table, children = _TABLES[resource]
        async with in_transaction("default") as conn:
            await _lock_rows(conn, shop_id, resource, exclusive=True)
            await conn.execute_query(
                "INSERT INTO sync_tombstones (shop_id, resource, shopify_id, deleted_at)"
                " SELECT $1, $2, i, now() FROM unnest($3::bigint[]) AS i"
                " ON CONFLICT (shop_id, resource, shopify_id) DO NOTHING",
                [shop_id, resource, list(ids)],
            )
            deleted = await _delete_with_children(
                conn,
                shop_id,
                table,
                children,
                where="shopify_id = ANY($2::bigint[])",
                params=[list(ids)],
            )
        await self._bump(shop_id)
        return deleted

    async def delete_unseen(
        self, resource: Resource, shop_id: int, *, run_id: int, started_at: datetime
    ) -> int:
        """After a full sync: delete rows the run did not see and nothing touched since."""
        table, children = _TABLES[resource]
        async with in_transaction("default") as conn:
            deleted = await _delete_with_children(
                conn,
                shop_id,
                table,
                children,
                where="seen_run_id IS DISTINCT FROM $2 AND updated_at < $3 AND synced_at < $3",
                params=[run_id, started_at],
            )
        if deleted:
            await self._bump(shop_id)
        return deleted


def _dedup(rows: list[Row]) -> list[Row]:
    return list({r["shopify_id"]: r for r in rows}.values())


async def _delete_with_children(
    conn: BaseDBAsyncClient,
    shop_id: int,
    table: str,
    children: tuple[tuple[str, str], ...],
    *,
    where: str,
    params: list[Any],
) -> int:
    ctes = [f"gone AS (DELETE FROM {table} WHERE shop_id = $1 AND {where} RETURNING shopify_id)"]  # noqa: S608 (table and column names are constants)
    for index, (child, column) in enumerate(children):
        ctes.append(
            f"c{index} AS (DELETE FROM {child} WHERE shop_id = $1"  # noqa: S608 (table and column names are constants)
            f" AND {column} IN (SELECT shopify_id FROM gone))"
        )
    sql = f"WITH {', '.join(ctes)} SELECT count(*) AS n FROM gone"  # noqa: S608 (table and column names are constants)
    _, rows = await conn.execute_query(sql, [shop_id, *params])
    return int(rows[0]["n"])


def connection() -> BaseDBAsyncClient:
    """The default Tortoise connection (raw SQL)."""
    return Tortoise.get_connection("default")
