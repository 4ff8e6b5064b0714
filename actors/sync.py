"""Per-shop sync actors: fan-out, one resource's run, the scheduled tick, data webhooks.

All on the "sync" queue. `sync_resource` may run long (a big shop at 100 points/s); it
checkpoints after every page, so a retry or a later start resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from models import Shop
from server.shops import ReauthRequiredError, ShopNotInstalledError
from server.sync import RESOURCES, Resource, runs
from server.sync.engine import LeaseLostError, SyncContext, run_sync
from server.sync.normalize import PayloadError, customer_row, order_row, product_row, shopify_id
from server.sync.store import SyncStore

log = logging.getLogger(__name__)

SYNC_QUEUE = "sync"
# Exactly the data topics whose deliveries apply_data_change applies.
DATA_TOPICS: dict[str, tuple[Resource, str]] = {
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
_NORMALIZE = {"products": product_row, "orders": order_row, "customers": customer_row}


class UnknownTopicError(ValueError):
    """A topic this actor does not handle (a wiring mistake, not worth retrying)."""


def _context() -> SyncContext:
    current = resources()
    return SyncContext(config=current.config.sync, redis=current.redis, services=current.services)


async def _send_runs(run_ids: list[int]) -> None:
    def send_all() -> None:
        for run_id in run_ids:
            sync_resource.send(run_id)

    # send is blocking I/O: off the event loop, all messages in one thread hop.
    await asyncio.to_thread(send_all)


@dramatiq.actor(queue_name=SYNC_QUEUE, max_retries=5, time_limit=60_000)
async def sync_shop(
    shop: str, kind: str = "incremental", trigger: str = "manual", run_ids: list[int] | None = None
) -> None:
    """Fan out: one `sync_resource` message per resource of the shop.

    With `run_ids` (the API created them) those runs are sent; without, runs are started
    here (or the active ones joined, so a dead worker's run is resumed).
    """
    if run_ids is None:
        row = await Shop.get_or_none(domain=shop)
        if row is None or not row.installed or row.needs_reauth:
            log.info("sync not started: shop not usable", extra={"shop": shop})
            return
        _, started = await runs.start_runs(
            row.id,
            kind=kind,
            trigger=trigger,
            overlap_s=resources().config.sync.overlap_s,
        )
        run_ids = [r.id for r in started]
    await _send_runs(run_ids)


@dramatiq.actor(
    queue_name=SYNC_QUEUE,
    max_retries=5,
    time_limit=6 * 3600 * 1000,
    min_backoff=5_000,
    max_backoff=300_000,
    # A transient refresh failure (TokenRefreshError) is retried: the run resumes.
    throws=(ShopNotInstalledError, ReauthRequiredError, LeaseLostError),
)
async def sync_resource(run_id: int) -> None:
    """Run or resume one sync run (at most one per shop and resource at a time)."""
    outcome = await run_sync(_context(), run_id)
    log.info("sync_resource %s: %s", run_id, outcome)


@dramatiq.actor(queue_name=SYNC_QUEUE, max_retries=0, time_limit=300_000)
async def schedule_incremental_syncs(period: int) -> None:
    """The scheduler's tick: an incremental sync for every installed, usable shop.

    Shops with an active run get it resumed (a no-op while its worker holds the lease).
    """
    config = resources().config.sync
    shops = await Shop.filter(
        installed_at__isnull=False, uninstalled_at__isnull=True, needs_reauth=False
    ).values_list("id", flat=True)
    run_ids: list[int] = []
    for shop_id in shops:
        _, started = await runs.start_runs(
            int(shop_id),  # type: ignore[call-overload]
            kind="incremental",
            trigger=f"schedule:{period}",
            overlap_s=config.overlap_s,
        )
        run_ids.extend(r.id for r in started)
    await _send_runs(run_ids)
    log.info("scheduled syncs", extra={"period": period, "runs": len(run_ids)})


async def apply_data_change(topic: str, shop: str, payload: dict[str, Any]) -> None:
    """Upsert or delete the row a products/orders/customers webhook describes.

    Runs inside the delivery's transaction (actors/webhooks.py), which bumps the shop's
    cache version once it commits. Older data never replaces newer (`updated_at` guard); a
    delete leaves a tombstone so a late, older update cannot bring the object back.
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
    result = await store.upsert(resource, row.id, [_NORMALIZE[resource](payload)])
    log.info("webhook upsert", extra={"shop": shop, "topic": topic, "applied": result.applied})


__all__ = [
    "DATA_TOPICS",
    "RESOURCES",
    "PayloadError",
    "apply_data_change",
    "schedule_incremental_syncs",
    "sync_resource",
    "sync_shop",
]
