"""Reads of the data API: one keyset page of a synced list, as the JSON body it is served as.

Lists come in a stable order (`updated_at`, then Shopify id) with keyset cursors, so rows
inserted or updated while a client pages never make it skip a row. Columns and nesting come
from the registry (server/sync/columns.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from tortoise import Tortoise

from server.pagination import BIGINT_MAX, decode_cursor, encode_cursor
from server.sync import columns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Times the API takes, a day inside Python's range on each side: no offset can push them out.
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_MAX_MICROS = (LATEST - EPOCH) // timedelta(microseconds=1)

Position = tuple[datetime, int]  # (updated_at, shopify_id) of the last row served


def encode_position(resource: str, updated_at: datetime, shopify_id: int) -> str:
    """The cursor of `resource`'s list after the row (updated_at, shopify_id)."""
    return encode_cursor(resource, (updated_at - EPOCH) // timedelta(microseconds=1), shopify_id)


def decode_position(resource: str, cursor: str) -> Position:
    """The position a cursor of `resource`'s list names; InvalidCursorError otherwise."""
    micros, shopify_id = decode_cursor(resource, cursor, [(0, _MAX_MICROS), (0, BIGINT_MAX)])
    return EPOCH + timedelta(microseconds=micros), shopify_id


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _item(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in names:
        value = row[name]
        if name == "tags" and isinstance(value, str):
            value = orjson.loads(value)
        item["id" if name == "shopify_id" else name] = _json_value(value)
    return item


async def list_page(
    resource: str,
    shop_id: int,
    *,
    limit: int,
    after: Position | None,
    since: datetime | None,
) -> bytes:
    """`{"items": [...], "next_cursor": ...}` of one page of `resource`, as JSON bytes."""
    names = columns.served(resource)
    where = ["shop_id = $1"]
    params: list[Any] = [shop_id]
    if after is not None:
        params += [after[0], after[1]]
        where.append(f"(updated_at, shopify_id) > (${len(params) - 1}, ${len(params)})")
    if since is not None:
        params.append(since)
        where.append(f"updated_at >= ${len(params)}")
    params.append(limit + 1)
    sql = (
        f"SELECT {', '.join(names)} FROM {resource} WHERE {' AND '.join(where)}"  # noqa: S608 (constant names)
        f" ORDER BY updated_at, shopify_id LIMIT ${len(params)}"
    )
    connection = Tortoise.get_connection("default")
    _, rows = await connection.execute_query(sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_item(row, names) for row in rows]
    child = columns.nested(resource)
    if child is not None and child.parent is not None and child.nested_as is not None and items:
        parent = child.parent[1]
        child_names = columns.served(child.name)
        _, child_rows = await connection.execute_query(
            f"SELECT {', '.join(child_names)} FROM {child.name} WHERE shop_id = $1"  # noqa: S608 (constant names)
            f" AND {parent} = ANY($2::bigint[]) ORDER BY {parent}, shopify_id",
            [shop_id, [item["id"] for item in items]],
        )
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in child_rows:
            grouped.setdefault(int(row[parent]), []).append(_item(row, child_names))
        for item in items:
            item[child.nested_as] = grouped.get(item["id"], [])
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_position(resource, last["updated_at"], int(last["shopify_id"]))
    return orjson.dumps({"items": items, "next_cursor": next_cursor})
