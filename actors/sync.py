"""Per-shop sync actors: fan-out, one resource's run, the scheduled tick.

Thin: each calls the sync flow's domain functions (server/sync/runs.py, engine.py). All on
the "sync" queue, as are data webhooks (actors/webhooks.py -> server/sync/changes.py).
`sync_resource` may run long (a big shop at 100 points/s); it checkpoints after every page,
so a retry or a later start resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from server import actor_names
from server.shops.tokens import ReauthRequiredError, ShopNotInstalledError
from server.sync import runs
from server.sync.engine import LeaseLostError, SyncContext, run_sync
from server.tasks import send

log = logging.getLogger(__name__)

SYNC_QUEUE = "sync"


def _context() -> SyncContext:
    current = resources()
    return SyncContext(config=current.config.sync, redis=current.redis, services=current.services)


async def _send_runs(run_ids: list[int]) -> None:
    def send_all() -> None:
        for run_id in run_ids:
            send(actor_names.SYNC_RESOURCE, run_id)

    # send is blocking I/O: off the event loop, all messages in one thread hop.
    await asyncio.to_thread(send_all)


@dramatiq.actor(
    actor_name=actor_names.SYNC_SHOP, queue_name=SYNC_QUEUE, max_retries=5, time_limit=60_000
)
async def sync_shop(
    shop: str, kind: str = "incremental", trigger: str = "manual", run_ids: list[int] | None = None
) -> None:
    """Fan out: one `sync_resource` message per resource of the shop.

    With `run_ids` (the API created them) those runs are sent; without, runs are started
    here (or the active ones joined, so a dead worker's run is resumed).
    """
    if run_ids is None:
        run_ids = await runs.start_for_shop(
            shop, kind=kind, trigger=trigger, overlap_s=resources().config.sync.overlap_s
        )
        if not run_ids:
            log.info("sync not started: shop not usable", extra={"shop": shop})
            return
    await _send_runs(run_ids)


@dramatiq.actor(
    actor_name=actor_names.SYNC_RESOURCE,
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


@dramatiq.actor(
    actor_name=actor_names.SCHEDULE_INCREMENTAL_SYNCS,
    queue_name=SYNC_QUEUE,
    max_retries=0,
    time_limit=300_000,
)
async def schedule_incremental_syncs(period: int) -> None:
    """The scheduler's tick: an incremental sync for every installed, usable shop.

    Shops with an active run get it resumed (a no-op while its worker holds the lease).
    """
    run_ids = await runs.start_scheduled(
        f"schedule:{period}", overlap_s=resources().config.sync.overlap_s
    )
    await _send_runs(run_ids)
    log.info("scheduled syncs", extra={"period": period, "runs": len(run_ids)})


__all__ = ["SYNC_QUEUE", "schedule_incremental_syncs", "sync_resource", "sync_shop"]
