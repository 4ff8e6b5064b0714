"""Sync runs: starting them (one active run per shop and resource), checkpoints, the end of
a run, cancelling a shop's runs, and the state the API reports.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise

from models import Shop, SyncRun
from server.sync import RESOURCES, Resource
from server.uninstall_steps import UNINSTALL_STEPS

ACTIVE = ("pending", "running")


class RunStopped(Exception):
    """The run was cancelled (uninstall) or finished elsewhere: stop at this checkpoint."""


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run a start request created or joined."""

    id: int
    resource: str
    kind: str
    status: str
    created: bool


def _conn() -> Any:
    return Tortoise.get_connection("default")


async def watermarks(shop_id: int) -> dict[str, datetime]:
    """Per resource, the newest `updatedAt` a successful run reached."""
    _, rows = await _conn().execute_query(
        "SELECT DISTINCT ON (resource) resource, max_updated_at FROM sync_runs"
        " WHERE shop_id = $1 AND status = 'succeeded' AND max_updated_at IS NOT NULL"
        " ORDER BY resource, finished_at DESC",
        [shop_id],
    )
    return {r["resource"]: r["max_updated_at"] for r in rows}


async def start_runs(
    shop_id: int,
    *,
    kind: str,
    trigger: str,
    overlap_s: int,
    resources: Sequence[Resource] = RESOURCES,
    group_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, list[StartedRun]]:
    """Create a pending run per resource unless one is active already (then join it).

    An incremental run of a resource that never completed a sync is a full one. One
    statement: concurrent starts race on the partial unique index, and each resource ends
    up with exactly one active run.
    """
    group = group_id or uuid.uuid4()
    marks = await watermarks(shop_id) if kind == "incremental" else {}
    kinds, sinces, marks_in = [], [], []
    for resource in resources:
        mark = marks.get(resource)
        kinds.append("incremental" if mark is not None else "full")
        sinces.append(mark - timedelta(seconds=overlap_s) if mark is not None else None)
        marks_in.append(mark)
    created = await _conn().execute_query_dict(
        "INSERT INTO sync_runs (shop_id, resource, kind, mode, status, trigger, group_id, since,"
        " max_updated_at, bulk_records_done, fetched, upserted, deleted, pages, resumed,"
        " created_at)"
        " SELECT $1, u.resource, u.kind, '', 'pending', $2, $3, u.since, u.mark, 0, 0, 0, 0, 0,"
        " 0, now()"
        " FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])"
        " AS u(resource, kind, since, mark)"
        " ON CONFLICT (shop_id, resource) WHERE status IN ('pending', 'running') DO NOTHING"
        " RETURNING id",
        [shop_id, trigger, str(group), list(resources), kinds, sinces, marks_in],
    )
    created_ids = {int(r["id"]) for r in created}
    _, rows = await _conn().execute_query(
        "SELECT id, resource, kind, status FROM sync_runs WHERE shop_id = $1"
        " AND resource = ANY($2::text[]) AND status IN ('pending', 'running') ORDER BY resource",
        [shop_id, list(resources)],
    )
    started = [
        StartedRun(
            id=int(r["id"]),
            resource=r["resource"],
            kind=r["kind"],
            status=r["status"],
            created=int(r["id"]) in created_ids,
        )
        for r in rows
    ]
    return group, started


async def start_for_shop(domain: str, *, kind: str, trigger: str, overlap_s: int) -> list[int]:
    """Start (or join) every resource's run of a usable shop; [] when it is not usable."""
    shop = await Shop.get_or_none(domain=domain)
    if shop is None or not shop.installed or shop.needs_reauth:
        return []
    _, started = await start_runs(shop.id, kind=kind, trigger=trigger, overlap_s=overlap_s)
    return [r.id for r in started]


async def start_scheduled(trigger: str, *, overlap_s: int) -> list[int]:
    """An incremental run per resource of every installed, usable shop (active ones joined)."""
    shops = await Shop.filter(
        installed_at__isnull=False, uninstalled_at__isnull=True, needs_reauth=False
    ).values_list("id", flat=True)
    run_ids: list[int] = []
    for shop_id in shops:
        _, started = await start_runs(
            int(shop_id),  # type: ignore[call-overload]
            kind="incremental",
            trigger=trigger,
            overlap_s=overlap_s,
        )
        run_ids.extend(r.id for r in started)
    return run_ids


async def claim(run_id: int) -> SyncRun | None:
    """Mark the run running (a resumed run keeps its checkpoint and first start time)."""
    rows = await _conn().execute_query_dict(
        "UPDATE sync_runs SET status = 'running', started_at = COALESCE(started_at, now()),"
        " heartbeat_at = now(), resumed = resumed + (CASE WHEN started_at IS NULL THEN 0"
        " ELSE 1 END) WHERE id = $1 AND status IN ('pending', 'running') RETURNING id",
        [run_id],
    )
    if not rows:
        return None
    return await SyncRun.get(id=run_id)


async def set_mode(run_id: int, mode: str) -> None:
    """Record the chosen path (paging or bulk) so a resume takes the same one."""
    await _update(run_id, "mode = $2", [mode])


async def set_bulk_operation(run_id: int, operation_id: str | None) -> None:
    """Remember the bulk operation a resume should keep reading (None: start a new one)."""
    await _update(run_id, "bulk_operation_id = $2, bulk_records_done = 0", [operation_id])


async def checkpoint(
    run_id: int,
    *,
    cursor: str | None = None,
    bulk_records_done: int | None = None,
    fetched: int = 0,
    upserted: int = 0,
    pages: int = 0,
    max_updated_at: datetime | None = None,
) -> None:
    """Record progress; raises RunStopped when the run is no longer running."""
    await _update(
        run_id,
        "cursor = COALESCE($2, cursor), bulk_records_done = COALESCE($3, bulk_records_done),"
        " fetched = fetched + $4, upserted = upserted + $5, pages = pages + $6,"
        " max_updated_at = GREATEST(max_updated_at, $7)",
        [cursor, bulk_records_done, fetched, upserted, pages, max_updated_at],
    )


async def heartbeat(run_id: int) -> None:
    """Still alive (e.g. while a bulk operation runs); raises RunStopped when cancelled."""
    await _update(run_id, "error = error", [])


async def _update(run_id: int, assignments: str, params: list[Any]) -> None:
    # execute_query drops the rows of UPDATE ... RETURNING; the dict variant keeps them.
    rows = await _conn().execute_query_dict(
        f"UPDATE sync_runs SET {assignments}, heartbeat_at = now()"  # noqa: S608 (table and column names are constants)
        " WHERE id = $1 AND status = 'running' RETURNING id",
        [run_id, *params],
    )
    if not rows:
        raise RunStopped(run_id)


async def finish(run_id: int, *, deleted: int = 0) -> None:
    """The run succeeded."""
    await _update(
        run_id, "status = 'succeeded', finished_at = now(), deleted = $2, error = NULL", [deleted]
    )


async def fail(run_id: int, error: str) -> None:
    """The run failed for good (no retry will resume it)."""
    await _conn().execute_query(
        "UPDATE sync_runs SET status = 'failed', finished_at = now(), error = $2"
        " WHERE id = $1 AND status IN ('pending', 'running')",
        [run_id, error[:2000]],
    )


async def record_error(run_id: int, error: str) -> None:
    """A transient failure: the run stays active; a retry resumes from its checkpoint."""
    await _conn().execute_query(
        "UPDATE sync_runs SET error = $2 WHERE id = $1 AND status IN ('pending', 'running')",
        [run_id, error[:2000]],
    )


async def cancel_runs(run_ids: Sequence[int], reason: str) -> None:
    """Cancel runs (e.g. their messages could not be queued)."""
    await _conn().execute_query(
        "UPDATE sync_runs SET status = 'cancelled', finished_at = now(), error = $2"
        " WHERE id = ANY($1::bigint[]) AND status IN ('pending', 'running')",
        [list(run_ids), reason],
    )


@UNINSTALL_STEPS.register("syncs")
async def cancel_shop_syncs(shop: str) -> None:
    """Uninstall hook: cancel the shop's pending and running syncs.

    Workers stop at their next checkpoint (every checkpoint requires status 'running'); the
    scheduler skips shops whose `uninstalled_at` is set, so nothing new starts.
    """
    await _conn().execute_query(
        "UPDATE sync_runs SET status = 'cancelled', finished_at = now(),"
        " error = 'the app was uninstalled'"
        " WHERE shop_id = (SELECT id FROM shops WHERE domain = $1)"
        " AND status IN ('pending', 'running')",
        [shop],
    )


def next_scheduled_at(interval_s: int, *, now_s: float | None = None) -> datetime:
    """When the scheduler's next period starts (periods are aligned on the epoch)."""
    now_s = time.time() if now_s is None else now_s
    return datetime.fromtimestamp(math.floor(now_s / interval_s + 1) * interval_s, UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def run_json(run: dict[str, Any]) -> dict[str, Any]:
    """The API shape of one run."""
    return {
        "id": int(run["id"]),
        "resource": run["resource"],
        "kind": run["kind"],
        "mode": run["mode"] or None,
        "status": run["status"],
        "trigger": run["trigger"],
        "group_id": str(run["group_id"]),
        "created_at": _iso(run["created_at"]),
        "started_at": _iso(run["started_at"]),
        "finished_at": _iso(run["finished_at"]),
        "counts": {
            "fetched": int(run["fetched"]),
            "upserted": int(run["upserted"]),
            "deleted": int(run["deleted"]),
            "pages": int(run["pages"]),
        },
        "resumed": int(run["resumed"]),
        "watermark": _iso(run["max_updated_at"]),
        "error": run["error"],
    }


async def sync_state(shop: Shop, *, interval_s: int) -> dict[str, Any]:
    """Per resource: the last run, the active one, the last success, rows stored, next run."""
    _, rows = await _conn().execute_query(
        "SELECT DISTINCT ON (resource) * FROM sync_runs WHERE shop_id = $1"
        " ORDER BY resource, id DESC",
        [shop.id],
    )
    last = {r["resource"]: r for r in rows}
    _, ok_rows = await _conn().execute_query(
        "SELECT DISTINCT ON (resource) resource, finished_at FROM sync_runs"
        " WHERE shop_id = $1 AND status = 'succeeded' ORDER BY resource, finished_at DESC",
        [shop.id],
    )
    success = {r["resource"]: r["finished_at"] for r in ok_rows}
    # One round trip for every resource's stored row count (index-only scans on shop_id).
    _, count_rows = await _conn().execute_query(
        " UNION ALL ".join(
            f"SELECT '{r}' AS resource, count(*) AS stored FROM {r} WHERE shop_id = $1"  # noqa: S608 (constant names)
            for r in RESOURCES
        ),
        [shop.id],
    )
    stored = {r["resource"]: int(r["stored"]) for r in count_rows}
    scheduled = _iso(next_scheduled_at(interval_s)) if shop.installed else None
    resources = {}
    for resource in RESOURCES:
        run = last.get(resource)
        resources[resource] = {
            "last_run": run_json(run) if run else None,
            "running": bool(run and run["status"] in ACTIVE),
            "last_success_at": _iso(success.get(resource)),
            "stored": stored.get(resource, 0),
            "next_run_at": scheduled,
        }
    return {"resources": resources, "interval_s": interval_s}
