"""Running one sync run: paging (full or incremental) or a bulk operation, checkpointed.

Called by the `sync_resource` actor in workers (and directly by tests and the bench): it
takes the (shop, resource) lease, claims the run, reads Shopify, upserts page by page and
checkpoints after each page, so a worker killed mid-run leaves a run that the next attempt
resumes where it stopped. While one page is written the next is already being fetched, so
the shop's rate-limit bucket is never idle waiting on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_fixed

from models import Shop, SyncRun
from server.aio import cancel_and_wait
from server.config import SyncConfig
from server.retry import retry
from server.services import ShopifyServices
from server.shopify.client import ShopCredentials, ShopifyClient
from server.shopify.errors import BulkOperationError, ShopifyAuthError, ShopifyUserError
from server.shopify.paging import LISTINGS, listing_pages
from server.shops.tokens import ShopTokenError, TokenRefreshError
from server.sync import Resource, runs
from server.sync.normalize import ROW_BUILDERS, JsonObject, Row
from server.sync.store import SyncStore
from server.webhook_topics import PayloadError

log = logging.getLogger(__name__)


class BulkStillRunningError(Exception):
    """The run's bulk operation has not finished yet; a retry resumes polling it."""


class LeaseLostError(Exception):
    """This worker no longer holds the (shop, resource) lease: another may run the sync."""


class Lease:
    """At most one sync per (shop, resource) across all workers: a Redis lock (redis-py's
    `Lock`: SET NX PX with an owner token) that is never waited for and is extended while
    the run works. Losing it (expired, then taken by another worker) stops the run.
    """

    def __init__(self, redis: aioredis.Redis, shop_id: int, resource: str, *, ttl_s: int) -> None:
        self.key = lease_key(shop_id, resource)
        self._lock = Lock(redis, self.key, timeout=ttl_s, thread_local=False)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        return bool(await self._lock.acquire(blocking=False))

    async def renew(self) -> None:
        """Reset the lease's time to live; LeaseLostError if it is no longer ours."""
        try:
            await self._lock.reacquire()
        except LockError as e:  # LockNotOwnedError: expired, and maybe taken since
            raise LeaseLostError(self.key) from e

    async def release(self) -> None:
        """Give the lease back (only if still ours)."""
        with contextlib.suppress(LockError):  # expired (maybe taken): nothing to give back
            await self._lock.release()


def lease_key(shop_id: int, resource: str) -> str:
    """The Redis key of a (shop, resource) sync lease."""
    return f"sync:lease:{shop_id}:{resource}"


@dataclass(frozen=True)
class SyncContext:
    """What a run needs: settings, Redis (leases, cache versions) and the Shopify services."""

    config: SyncConfig
    redis: aioredis.Redis
    services: ShopifyServices

    @property
    def client(self) -> ShopifyClient:
        return self.services.shopify


_PERMANENT = (ShopTokenError, ShopifyAuthError, PayloadError)
# A run that failed after this many resumptions is failed for good, so the next request
# starts a fresh run instead of resuming the same failing page forever.
MAX_RESUMES = 8


async def run_sync(ctx: SyncContext, run_id: int) -> str:  # noqa: PLR0911 (one exit per outcome)
    """Run (or resume) one sync run; returns what happened: its final status, or why not."""
    run = await SyncRun.get_or_none(id=run_id)
    if run is None or run.status not in runs.ACTIVE:
        return "done"
    resource: Resource = run.resource  # type: ignore[assignment]
    lease = Lease(ctx.redis, run.shop_id, resource, ttl_s=ctx.config.lease_s)  # type: ignore[attr-defined]
    if not await lease.acquire():
        # Another worker runs this (shop, resource); if it dies, its lease expires and the
        # next start request or scheduled tick resumes the run from its checkpoint.
        log.info("sync already running elsewhere", extra={"run_id": run_id})
        return "busy"
    try:
        claimed = await runs.claim(run_id)
        if claimed is None:
            return "done"
        shop = await Shop.get(id=claimed.shop_id)  # type: ignore[attr-defined]
        if not shop.installed:
            await runs.cancel_runs([run_id], "the app is not installed")
            return "cancelled"
        try:
            creds = await ctx.services.credentials(shop.domain)
            deleted = await _with_lease_kept(
                _run(ctx, claimed, shop, creds, lease),
                lease,
                every_s=ctx.config.lease_s / 3,
            )
        except runs.RunStopped:
            log.info("sync stopped (cancelled)", extra={"run_id": run_id, "shop": shop.domain})
            return "cancelled"
        except TokenRefreshError as e:
            await runs.record_error(run_id, str(e))
            raise
        except _PERMANENT as e:
            await runs.fail(run_id, f"{type(e).__name__}: {e}")
            log.warning("sync failed for good", extra={"run_id": run_id, "shop": shop.domain})
            return "failed"
        except Exception as e:
            if claimed.resumed >= MAX_RESUMES:
                await runs.fail(
                    run_id, f"gave up after {claimed.resumed} resumptions: {type(e).__name__}: {e}"
                )
                log.warning("sync failed for good", extra={"run_id": run_id, "shop": shop.domain})
                return "failed"
            # Transient (Shopify 5xx after retries, a store hiccup): the run stays active
            # and the actor's retry resumes it from its checkpoint.
            await runs.record_error(run_id, f"{type(e).__name__}: {e}")
            raise
        await runs.finish(run_id, deleted=deleted)
        log.info(
            "sync finished",
            extra={"run_id": run_id, "shop": shop.domain, "resource": resource},
        )
        return "succeeded"
    finally:
        with contextlib.suppress(Exception):
            await lease.release()


async def _with_lease_kept(work: Coroutine[Any, Any, int], lease: Lease, *, every_s: float) -> int:
    """Run `work` while renewing the lease in the background.

    Checkpoints renew it too, but a run can wait far longer than the lease between two of
    them (a bulk operation already in progress, throttled nested pages): without this, the
    lease would lapse and a second worker could start the same run. If the lease is lost
    anyway, the work is stopped.
    """

    async def keep() -> None:
        while True:
            await asyncio.sleep(every_s)
            await lease.renew()

    task = asyncio.ensure_future(work)
    keeper = asyncio.ensure_future(keep())
    try:
        await asyncio.wait({task, keeper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await cancel_and_wait(task)
            keeper.result()  # raises LeaseLostError (or a store error)
        return task.result()
    finally:
        for pending in (task, keeper):
            if not pending.done():
                await cancel_and_wait(pending)


@dataclass(frozen=True, slots=True)
class _Job:
    """One run in progress: what its reads and writes need."""

    ctx: SyncContext
    run: SyncRun
    shop: Shop
    creds: ShopCredentials
    lease: Lease
    store: SyncStore

    @property
    def resource(self) -> Resource:
        return self.run.resource  # type: ignore[return-value]

    async def write(
        self,
        rows: list[Row],
        *,
        max_updated_at: Any,
        cursor: str | None = None,
        bulk_records_done: int | None = None,
    ) -> None:
        """Upsert one page or batch, renew the lease and checkpoint the run past it."""
        # A full run marks what it saw: what it did not see is deleted at its end.
        seen_run = self.run.id if self.run.kind == "full" else None
        result = await self.store.upsert(self.resource, self.shop.id, rows, run_id=seen_run)
        await self.lease.renew()
        await runs.checkpoint(
            self.run.id,
            cursor=cursor,
            bulk_records_done=bulk_records_done,
            fetched=len(rows),
            upserted=result.applied,
            pages=1,
            max_updated_at=max_updated_at,
        )


async def _run(
    ctx: SyncContext, run: SyncRun, shop: Shop, creds: ShopCredentials, lease: Lease
) -> int:
    job = _Job(ctx, run, shop, creds, lease, SyncStore(ctx.redis))
    mode = run.mode
    if not mode:
        mode = "paging"
        if run.kind == "full" and await _count_above(ctx, creds, job.resource):
            mode = "bulk"
        await runs.set_mode(run.id, mode)
    await (_bulk(job) if mode == "bulk" else _pages(job))
    if run.kind != "full":
        return 0
    assert run.started_at is not None
    return await job.store.delete_unseen(
        job.resource, shop.id, run_id=run.id, started_at=run.started_at
    )


async def _count_above(ctx: SyncContext, creds: ShopCredentials, resource: Resource) -> bool:
    threshold = ctx.config.bulk_threshold
    listing = LISTINGS[resource]
    data = await ctx.client.query(creds, listing.count_query, {"limit": threshold + 1})
    count = int((data.get(f"{listing.root}Count") or {}).get("count") or 0)
    return count > threshold


def _page_size(resource: Resource, config: SyncConfig) -> int:
    sizes = {
        "products": config.products_page_size,
        "orders": config.orders_page_size,
        "customers": config.customers_page_size,
    }
    return sizes[resource]


async def _pages(job: _Job) -> None:
    normalize = ROW_BUILDERS[job.resource]
    walk = listing_pages(
        job.ctx.client,
        job.creds,
        job.resource,
        first=_page_size(job.resource, job.ctx.config),
        updated_since=job.run.since,
        after=job.run.cursor,
    )
    async with contextlib.aclosing(walk):
        async for page in walk:
            rows = [normalize(node) for node in page.nodes]
            newest = max((r["updated_at"] for r in rows), default=None)
            await job.write(rows, cursor=page.end_cursor, max_updated_at=newest)


def _another_bulk_query_runs(error: BaseException) -> bool:
    return isinstance(error, ShopifyUserError) and any(
        err.get("code") == "OPERATION_IN_PROGRESS" for err in error.user_errors
    )


async def _start_bulk(ctx: SyncContext, creds: ShopCredentials, query: str) -> str:
    # Another bulk query of this app on this shop is running: wait for a slot, polling, for
    # up to bulk_timeout_s; any other error is raised at once.
    waiting_for_a_slot = AsyncRetrying(
        retry=retry_if_exception(_another_bulk_query_runs),
        stop=stop_after_delay(ctx.config.bulk_timeout_s),
        wait=wait_fixed(ctx.config.bulk_poll_interval_s),
        reraise=True,
    )
    operation = await retry(
        waiting_for_a_slot, ctx.client.run_bulk_query, creds, query, group_objects=True
    )
    return str(operation["id"])


async def _wait_bulk(
    ctx: SyncContext, run: SyncRun, creds: ShopCredentials, operation_id: str
) -> JsonObject:
    """The completed operation; BulkStillRunningError when it outlasts bulk_timeout_s."""
    try:
        return await ctx.client.wait_for_bulk_operation(
            creds,
            operation_id,
            timeout_s=ctx.config.bulk_timeout_s,
            poll_interval_s=ctx.config.bulk_poll_interval_s,
            on_poll=lambda: runs.heartbeat(run.id),
        )
    except BulkOperationError as e:
        if e.status not in ("CREATED", "RUNNING"):
            raise
        # Not a failure: Shopify gives bulk jobs up to 10 days. The run keeps the
        # operation id and its retry goes on polling the same job.
        raise BulkStillRunningError(str(e)) from None


def _bulk_watermark(rows: list[Row], run: SyncRun) -> Any:
    """The newest updatedAt read, but never past the run's start.

    A bulk job reads objects over minutes or hours: one it read early may change again
    while a later one changes even later. A watermark past the run's start would let the
    next incremental sync skip the first change; capped, it re-reads from the start.
    """
    newest = max((r["updated_at"] for r in rows), default=None)
    if newest is None or run.started_at is None:
        return newest
    return min(newest, run.started_at)


async def _bulk(job: _Job) -> None:
    run, ctx = job.run, job.ctx
    listing = LISTINGS[job.resource]
    child_field = listing.nested.field if listing.nested else None
    normalize = ROW_BUILDERS[job.resource]
    operation_id = run.bulk_operation_id
    skip = run.bulk_records_done
    if operation_id is None:
        operation_id = await _start_bulk(ctx, job.creds, listing.bulk_query)
        await runs.set_bulk_operation(run.id, operation_id)
        skip = 0
    try:
        operation = await _wait_bulk(ctx, run, job.creds, operation_id)
    except BulkOperationError:
        # Failed, cancelled or expired: the next attempt starts a new operation.
        await runs.set_bulk_operation(run.id, None)
        raise
    url = operation.get("url")
    if not url:
        return  # nothing matched
    done = 0
    batch: list[Row] = []

    async def flush() -> None:
        rows = list(batch)
        batch.clear()
        await job.write(rows, bulk_records_done=done, max_updated_at=_bulk_watermark(rows, run))

    try:
        async for record in ctx.client.iter_bulk_records(job.shop.domain, str(url)):
            done += 1
            if done <= skip:
                continue
            node = dict(record.node)
            if child_field is not None:
                node[child_field] = [c for c in record.children if "id" in c]
            batch.append(normalize(node))
            if len(batch) >= ctx.config.write_batch:
                await flush()
        if batch:
            await flush()
    except BulkOperationError:
        # The result URL expired or broke mid-read: start over with a new operation.
        await runs.set_bulk_operation(run.id, None)
        raise


__all__ = ["Lease", "LeaseLostError", "SyncContext", "lease_key", "run_sync"]
