"""Data webhooks (products/orders/customers create, update, delete) applied to synced rows.

`DATA_TOPICS` is the one list of the topics this flow applies; the webhook topic table
(server/webhooks/topics.py) reads it. Older data never replaces newer (`updated_at` guard in
the store); a delete leaves a tombstone so a late, older update cannot bring the object back.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from models import Shop
from server.sync import Resource
from server.sync.normalize import ROW_BUILDERS, PayloadError, shopify_id
from server.sync.store import SyncStore

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


async def apply_data_change(topic: str, shop: str, payload: dict[str, Any]) -> None:
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
    result = await store.upsert(resource, row.id, [ROW_BUILDERS[resource](payload)])
    log.info("webhook upsert", extra={"shop": shop, "topic": topic, "applied": result.applied})


__all__ = ["DATA_TOPICS", "PayloadError", "UnknownTopicError", "apply_data_change"]
