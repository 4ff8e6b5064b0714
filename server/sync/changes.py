"""Data webhooks (products/orders/customers create, update, delete) applied to synced rows.

`DATA_TOPICS` is the one list of the topics this flow applies; it registers them in the
webhook topic table (server/webhook_topics.py). Older data never replaces newer (`updated_at` guard in
the store); a delete leaves a tombstone so a late, older update cannot bring the object back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Shop
from server.actor_names import PROCESS_BUSY_DATA_WEBHOOKS, PROCESS_DATA_WEBHOOKS
from server.sweep import RETENTION_STEPS, Retention
from server.sync import Resource
from server.sync.normalize import ROW_BUILDERS, shopify_id
from server.sync.store import Item, SyncStore, delete_rows, upsert_rows
from server.webhook_topics import Change, PayloadError, Topic, register_topics, requested_at

log = logging.getLogger(__name__)

# topic -> (resource, action): exactly the data topics apply_data_change applies.
DATA_TOPICS: Final[dict[str, tuple[Resource, str]]] = {
    "products/create": ("products", "upsert"),
    "products/update": ("products", "upsert"),
    "products/delete": ("products", "delete"),
    "orders/create": ("orders", "upsert"),
    "orders/updated": ("orders", "upsert"),
    "orders/delete": ("orders", "delete"),
    "customers/create": ("customers", "upsert"),
    "customers/update": ("customers", "upsert"),
    "customers/delete": ("customers", "delete"),
}


class UnknownTopicError(ValueError):
    """A topic this flow does not apply (a wiring mistake, not worth retrying)."""


def with_update_time(payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The payload, ordered by `at` when it says nothing of its own update time.

    Shopify's "send test notification" deliveries carry sample objects whose `updated_at`
    is null; such a row is ordered by when Shopify triggered the delivery instead.
    """
    if payload.get("updated_at") or payload.get("updatedAt"):
        return payload
    return {**payload, "updated_at": at.isoformat()}


async def apply_data_changes(
    conn: BaseDBAsyncClient, changes: list[Change]
) -> dict[int, Exception]:
    """Apply data deliveries of any shops in the caller's transaction: one statement per
    table and action for the lot. Returns the deliveries that failed on their own payload
    (the rest are applied); a statement that fails raises (the caller retries each alone).
    """
    failures: dict[int, Exception] = {}
    upserts: dict[Resource, list[Item]] = defaultdict(list)
    deletes: dict[Resource, list[tuple[int, int]]] = defaultdict(list)
    for change in changes:
        route = DATA_TOPICS.get(change.topic)
        if route is None:
            failures[change.delivery_id] = UnknownTopicError(change.topic)
            continue
        if change.shop_id is None:
            continue  # a shop this app does not know: nothing to apply
        resource, action = route
        try:
            if action == "delete":
                deletes[resource].append((change.shop_id, shopify_id(change.payload.get("id"))))
            else:
                row = ROW_BUILDERS[resource](with_update_time(change.payload, change.at))
                upserts[resource].append((change.shop_id, row))
        except PayloadError as e:
            failures[change.delivery_id] = e
    for resource, items in upserts.items():
        await upsert_rows(conn, resource, items, run_id=None)
    for resource, keys in deletes.items():
        await delete_rows(conn, resource, keys)
    return failures


async def apply_data_change(
    topic: str, shop: str, payload: dict[str, Any], *, at: datetime
) -> None:
    """Upsert or delete the row a products/orders/customers webhook describes.

    Runs inside the delivery's transaction (server/webhooks/processing.py), which bumps the shop's
    cache version once it commits. Raises PayloadError for a payload without the fields a
    row needs.
    """
    route = DATA_TOPICS.get(topic)
    if route is None:
        raise UnknownTopicError(topic)
    resource, action = route
    row = await Shop.get_or_none(domain=shop)
    if row is None:
        log.info("webhook for an unknown shop ignored", extra={"shop": shop, "topic": topic})
        return
    store = SyncStore(None)  # the caller bumps the cache version after its commit
    if action == "delete":
        deleted = await store.delete(resource, row.id, [shopify_id(payload.get("id"))])
        log.info("webhook delete", extra={"shop": shop, "topic": topic, "deleted": deleted})
        return
    row_data = ROW_BUILDERS[resource](with_update_time(payload, at))
    result = await store.upsert(resource, row.id, [row_data])
    log.info("webhook upsert", extra={"shop": shop, "topic": topic, "applied": result.applied})


_DELETE_TOMBSTONES = """
DELETE FROM sync_tombstones WHERE deleted_at < now() - make_interval(days => $1)
"""


@RETENTION_STEPS.register("sync tombstones")
async def delete_tombstones(connection: BaseDBAsyncClient, keep: Retention) -> dict[str, int]:
    """Tombstones past `retention.sync_tombstones_days`: no late update that old arrives."""
    deleted, _ = await connection.execute_query(
        _DELETE_TOMBSTONES, [keep.days.sync_tombstones_days]
    )
    return {"tombstones_deleted": int(deleted)}


async def _data_change(topic: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await apply_data_change(topic, shop, payload, at=requested_at(d))


# products/*, orders/*, customers/*: the sync keeps its rows fresh from these.
register_topics(
    {
        topic: Topic(
            _data_change,
            PROCESS_DATA_WEBHOOKS,
            permanent=(PayloadError, UnknownTopicError),
            changes_shop_data=True,
            batch=apply_data_changes,
            busy_actor=PROCESS_BUSY_DATA_WEBHOOKS,
        )
        for topic in DATA_TOPICS
    }
)
