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
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.page_cache import bump_version
from server.sync import Resource, columns
from server.sync.normalize import Row

log = logging.getLogger(__name__)

Column = tuple[str, str]  # (name, SQL type), from the registry (server/sync/columns.py)


def _columns(table: str) -> list[Column]:
    return [(c.name, c.sql) for c in columns.TABLES[table].columns]


def _upsert_sql(
    table: str,
    cols: Sequence[Column],
    *,
    guard: bool,
    tombstones: str | None = None,
    seen: bool = False,
    coalesce: frozenset[str] = frozenset(),
) -> str:
    names = [name for name, _ in cols]
    arrays = ", ".join(
        [
            "$1::bigint[]",
            *(
                f"${i + 2}::{'text' if kind in ('jsonb', 'numeric') else kind}[]"
                for i, (_, kind) in enumerate(cols)
            ),
        ]
    )
    selects = [
        f"u.{name}::{kind}" if kind in ("jsonb", "numeric") else f"u.{name}" for name, kind in cols
    ]
    insert_names = ["shop_id", *names]
    select_list = ["u.shop_id", *selects]
    updates = [
        f"{n} = COALESCE(EXCLUDED.{n}, t.{n})" if n in coalesce else f"{n} = EXCLUDED.{n}"
        for n in names
        if n != "shopify_id"
    ]
    if seen:
        extra = len(cols) + 2
        insert_names += ["seen_run_id", "synced_at"]
        select_list += [f"${extra}::bigint", "now()"]
        updates += [
            "seen_run_id = COALESCE(EXCLUDED.seen_run_id, t.seen_run_id)",
            "synced_at = now()",
        ]
    sql = (
        f"INSERT INTO {table} AS t ({', '.join(insert_names)}) "  # noqa: S608 (table and column names are constants)
        f"SELECT {', '.join(select_list)} FROM unnest({arrays}) AS u(shop_id, {', '.join(names)})"
    )
    if tombstones:
        sql += (
            " WHERE NOT EXISTS (SELECT 1 FROM sync_tombstones x WHERE x.shop_id = u.shop_id"  # noqa: S608 (table and column names are constants)
            f" AND x.resource = '{tombstones}' AND x.shopify_id = u.shopify_id)"
        )
    sql += f" ON CONFLICT (shop_id, shopify_id) DO UPDATE SET {', '.join(updates)}"
    if guard:
        sql += " WHERE EXCLUDED.updated_at >= t.updated_at"
    return sql + " RETURNING t.shop_id, t.shopify_id"


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "jsonb":
        return orjson.dumps(value).decode()
    return value


def _arrays(rows: Sequence[Row], cols: Sequence[Column]) -> list[list[Any]]:
    return [[_value(row[name], kind) for row in rows] for name, kind in cols]


# A row of one shop: (shop id, normalised row).
Item = tuple[int, Row]


def _latest(items: Sequence[Item]) -> list[Item]:
    # One statement cannot touch a row twice: keep the newest copy of each (shop, id).
    best: dict[tuple[int, int], Item] = {}
    for item in items:
        key = (item[0], item[1]["shopify_id"])
        current = best.get(key)
        if current is None or item[1]["updated_at"] >= current[1]["updated_at"]:
            best[key] = item
    return list(best.values())


@dataclass(frozen=True, slots=True)
class _Write:
    """How one table's rows are upserted."""

    table: str
    columns: list[Column]
    sql: str
    # Children only: the key of the normalised parent row holding them, and the column
    # holding the parent's Shopify id.
    key: str | None = None
    parent_column: str | None = None


def _write(table: str, *, key: str | None = None) -> _Write:
    spec = columns.TABLES[table]
    parent = spec.parent is None  # a synced object; children are replaced with their parent
    return _Write(
        table,
        _columns(table),
        _upsert_sql(
            table,
            _columns(table),
            guard=parent,
            tombstones=table if parent else None,
            seen=parent,
            coalesce=frozenset(c.name for c in spec.columns if c.keep_when_missing),
        ),
        key,
        spec.parent[1] if spec.parent else None,
    )


# resource -> its table's write, and its children's (key in the normalised row).
_WRITES: dict[str, tuple[_Write, tuple[_Write, ...]]] = {
    "products": (_write("products"), (_write("product_variants", key="variants"),)),
    "orders": (
        _write("orders"),
        (
            _write("order_line_items", key="line_items"),
            _write("transactions", key="transactions"),
        ),
    ),
    "customers": (_write("customers"), ()),
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How many objects came in and how many rows were written (newer than what was stored)."""

    received: int
    applied: int


async def _lock_rows(
    conn: BaseDBAsyncClient, shop_ids: Sequence[int], resource: str, *, exclusive: bool
) -> None:
    """Order deletes against upserts of each (shop, resource), until the transaction ends.

    Upserts share the lock; a delete takes it alone. Without it, an upsert that checked for
    a tombstone just before a delete committed could re-insert the deleted row. Taken in
    shop order, so two transactions never wait on each other's locks in opposite orders.
    """
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    keys = [f"sync-rows:{shop_id}:{resource}" for shop_id in sorted(set(shop_ids))]
    await conn.execute_query(
        f"SELECT count({function}(hashtextextended(k, 0))) FROM unnest($1::text[]) AS k",  # noqa: S608 (the function name is a constant)
        [keys],
    )


async def _keys(conn: BaseDBAsyncClient, sql: str, params: list[Any]) -> set[tuple[int, int]]:
    # execute_query drops the rows of INSERT/UPDATE ... RETURNING; the dict variant keeps them.
    rows = await conn.execute_query_dict(sql, params)
    return {(int(r["shop_id"]), int(r["shopify_id"])) for r in rows}


async def _replace_children(
    conn: BaseDBAsyncClient, child: _Write, parents: Sequence[Item]
) -> None:
    if not parents:
        return
    assert child.key is not None
    pairs = [
        ((shop_id, c["shopify_id"]), (shop_id, c)) for shop_id, r in parents for c in r[child.key]
    ]
    children = dict(sorted(pairs, key=lambda pair: pair[0]))
    keep = [c["shopify_id"] for _, c in children.values()]
    await conn.execute_query(
        f"DELETE FROM {child.table} WHERE (shop_id, {child.parent_column}) IN"  # noqa: S608 (table and column names are constants)
        " (SELECT * FROM unnest($1::bigint[], $2::bigint[]))"
        " AND NOT (shopify_id = ANY($3::bigint[]))",
        [[s for s, _ in parents], [r["shopify_id"] for _, r in parents], keep],
    )
    if children:
        rows = [c for _, c in children.values()]
        await conn.execute_query(
            child.sql,
            [[s for s, _ in children.values()], *_arrays(rows, child.columns)],
        )


async def upsert_rows(
    conn: BaseDBAsyncClient, resource: Resource, items: Sequence[Item], *, run_id: int | None
) -> set[tuple[int, int]]:
    """Upsert rows of one resource, of any shops, with their children, in the caller's
    transaction; the (shop, id) keys written (newer than what was stored)."""
    # In key order: two transactions writing the same rows lock them in the same order.
    items = sorted(_latest(items), key=lambda item: (item[0], item[1]["shopify_id"]))
    main, child_writes = _WRITES[resource]
    await _lock_rows(conn, [shop_id for shop_id, _ in items], resource, exclusive=False)
    rows = [row for _, row in items]
    applied = await _keys(
        conn, main.sql, [[s for s, _ in items], *_arrays(rows, main.columns), run_id]
    )
    written = [item for item in items if (item[0], item[1]["shopify_id"]) in applied]
    for child in child_writes:
        assert child.key is not None
        # None: the payload did not carry them (REST orders lack transactions).
        parents = [item for item in written if item[1][child.key] is not None]
        await _replace_children(conn, child, parents)
    return applied


async def delete_rows(
    conn: BaseDBAsyncClient, resource: Resource, keys: Sequence[tuple[int, int]]
) -> int:
    """Delete objects (and children) of any shops and leave tombstones, in the caller's
    transaction; returns rows deleted."""
    shop_ids = [shop_id for shop_id, _ in keys]
    ids = [shopify_id for _, shopify_id in keys]
    await _lock_rows(conn, shop_ids, resource, exclusive=True)
    await conn.execute_query(
        "INSERT INTO sync_tombstones (shop_id, resource, shopify_id, deleted_at)"
        " SELECT s, $1, i, now() FROM unnest($2::bigint[], $3::bigint[]) AS u(s, i)"
        " ON CONFLICT (shop_id, resource, shopify_id) DO NOTHING",
        [resource, shop_ids, ids],
    )
    return await _delete_with_children(
        conn,
        resource,
        where="(shop_id, shopify_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
        params=[shop_ids, ids],
    )


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
        items = _latest([(shop_id, row) for row in rows])
        main = _WRITES[resource][0]
        async with in_transaction("default") as conn:
            applied = await upsert_rows(conn, resource, items, run_id=run_id)
            if run_id is not None:
                # Rows newer in the table than in this page still exist in Shopify.
                skipped = [
                    r["shopify_id"] for _, r in items if (shop_id, r["shopify_id"]) not in applied
                ]
                if skipped:
                    await conn.execute_query(
                        f"UPDATE {main.table} SET seen_run_id = $2 WHERE shop_id = $1"  # noqa: S608 (table and column names are constants)
                        " AND shopify_id = ANY($3::bigint[])",
                        [shop_id, run_id, skipped],
                    )
        if applied:
            await self._bump(shop_id)
        return WriteResult(received=len(items), applied=len(applied))

    async def delete(self, resource: Resource, shop_id: int, ids: Sequence[int]) -> int:
        """Delete objects (and children) and leave tombstones; returns rows deleted."""
        async with in_transaction("default") as conn:
            deleted = await delete_rows(conn, resource, [(shop_id, i) for i in ids])
        await self._bump(shop_id)
        return deleted

    async def delete_unseen(
        self, resource: Resource, shop_id: int, *, run_id: int, started_at: datetime
    ) -> int:
        """After a full sync: delete rows the run did not see and nothing touched since."""
        async with in_transaction("default") as conn:
            deleted = await _delete_with_children(
                conn,
                resource,
                where="shop_id = $1 AND seen_run_id IS DISTINCT FROM $2 AND updated_at < $3"
                " AND synced_at < $3",
                params=[shop_id, run_id, started_at],
            )
        if deleted:
            await self._bump(shop_id)
        return deleted


async def _delete_with_children(
    conn: BaseDBAsyncClient,
    table: str,
    *,
    where: str,
    params: list[Any],
) -> int:
    ctes = [f"gone AS (DELETE FROM {table} WHERE {where} RETURNING shop_id, shopify_id)"]  # noqa: S608 (table and column names are constants)
    for index, child in enumerate(columns.children(table)):
        assert child.parent is not None
        ctes.append(
            f"c{index} AS (DELETE FROM {child.name} WHERE (shop_id, {child.parent[1]}) IN"  # noqa: S608 (table and column names are constants)
            " (SELECT shop_id, shopify_id FROM gone))"
        )
    sql = f"WITH {', '.join(ctes)} SELECT count(*) AS n FROM gone"  # noqa: S608 (table and column names are constants)
    _, rows = await conn.execute_query(sql, params)
    return int(rows[0]["n"])
