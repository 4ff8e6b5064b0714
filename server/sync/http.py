"""The sync flow's HTTP edge (session-token auth): the data API's lists and sync control.

Lists answer `{"items": [...], "next_cursor": "<opaque>" | null}` (server/sync/queries.py
reads them). Pages are cached in Redis per shop under a version every write bumps
(server/page_cache.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import orjson
from aiohttp import web
from tortoise.exceptions import OperationalError

from models import Shop
from server.actor_names import SYNC_SHOP
from server.inputs import Body, Field, Parameters, Str, Strings
from server.page_cache import PageCache
from server.pagination import CURSOR, LIMIT, InvalidCursorError
from server.problem import Problem
from server.store_errors import STORE_DOWN_ERRORS
from server.sync import RESOURCES, Resource, columns, queries, runs
from server.sync.queries import Position, decode_position
from server.tasks import BrokerUnavailableError, enqueue
from server.web import keys
from server.web.responses import json_response
from server.web.session_auth import reauth_problem

log = logging.getLogger(__name__)

KINDS = ("full", "incremental")


def _parse_cursor(resource: str, cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        return decode_position(resource, cursor)
    except InvalidCursorError:
        raise Problem(
            400,
            "cursor is not one this endpoint returned; start again without it",
            title="Invalid cursor",
        ) from None


def _parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or moment.utcoffset() is None:
        raise Problem(
            400,
            "updated_since must be an ISO 8601 time with a zone, e.g. 2026-11-01T00:00:00Z",
            title="Invalid updated_since",
        )
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise Problem(
            400, "updated_since is outside the range of dates", title="Invalid updated_since"
        ) from None
    # Nothing was updated before 1970 or after 9999: clamping changes no answer and keeps
    # every value inside what the database and the cursor arithmetic take.
    return min(max(moment, queries.EPOCH), queries.LATEST)


# GET /api/<resource>'s query: parsed here, documented from here (server/openapi.py).
LIST_QUERY = Parameters(
    (
        LIMIT,
        CURSOR,
        Field(
            "updated_since",
            Str(format="date-time"),
            description="ISO 8601 with a zone; updated_at >= it",
            then=_parse_since,
        ),
    )
)


def _usable_shop(request: web.Request) -> Shop:
    shop = request[keys.SHOP]
    if shop.needs_reauth:
        raise reauth_problem(request.app[keys.CONFIG].app.url, shop.domain)
    return shop


T = TypeVar("T")


_DB_ERRORS: tuple[type[BaseException], ...] = (*STORE_DOWN_ERRORS, OperationalError)


async def _store_call(call: Callable[[], Awaitable[T]]) -> T:
    """A database call; a database that is down is a 503 with Retry-After."""
    try:
        return await call()
    except _DB_ERRORS as e:
        log.error("database unavailable: %s", type(e).__name__)
        raise Problem.unavailable("the database is unavailable; try again shortly") from None


def list_handler(resource: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /api/<resource>: one page, from the cache when this shop's version has it."""

    async def handler(request: web.Request) -> web.Response:
        shop = _usable_shop(request)
        query = LIST_QUERY.parse(request.query)
        limit, cursor, since = query["limit"], query["cursor"], query["updated_since"]
        after = _parse_cursor(resource, cursor)
        cache = PageCache(request.app[keys.REDIS], ttl_s=request.app[keys.CONFIG].sync.cache_ttl_s)
        counter = request.app[keys.METRICS].api_cache
        version = await cache.version(shop.id)
        key = None
        if version is not None:
            request_key = f"{resource}|{limit}|{cursor or ''}|{since.isoformat() if since else ''}"
            key = cache.key(shop.id, version, request_key)
            cached = await cache.get(key)
            if cached is not None:
                counter.labels(resource, "hit").inc()
                return web.Response(
                    body=cached, content_type="application/json", headers={"X-Cache": "hit"}
                )
        body = await _store_call(
            lambda: queries.list_page(resource, shop.id, limit=limit, after=after, since=since)
        )
        if key is not None:
            counter.labels(resource, "miss").inc()
            await cache.put(key, body)
        else:
            counter.labels(resource, "bypass").inc()
        return web.Response(
            body=body,
            content_type="application/json",
            headers={"X-Cache": "miss" if key else "bypass"},
        )

    handler.__name__ = f"list_{resource}"
    handler.__doc__ = f"GET /api/{resource}"
    return handler


# POST /api/sync's body (optional; JSON null is no body).
SYNC_BODY = Body(
    (
        Field("kind", Str(enum=KINDS), "kind must be full or incremental", default="incremental"),
        Field(
            "resources",
            Strings(RESOURCES, min_items=1),
            f"resources must be a non-empty list of {', '.join(RESOURCES)}",
            then=lambda values: [r for r in RESOURCES if r in values],
        ),
    ),
    expected='expected {"kind": "full"|"incremental", "resources": [...]}',
)


async def _read_sync_body(request: web.Request) -> tuple[str, list[Resource]]:
    if not request.can_read_body:
        return "incremental", list(RESOURCES)
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", title="Invalid body") from None
    if body is None:
        return "incremental", list(RESOURCES)
    values = SYNC_BODY.parse(body)
    return values["kind"], values["resources"] or list(RESOURCES)


async def start_sync(request: web.Request) -> web.Response:
    """POST /api/sync: start (or join) a sync; 202 with the run id."""
    shop = _usable_shop(request)
    kind, chosen = await _read_sync_body(request)
    config = request.app[keys.CONFIG]
    group, started = await _store_call(
        lambda: runs.start_runs(
            shop.id, kind=kind, trigger="api", overlap_s=config.sync.overlap_s, resources=chosen
        )
    )
    run_ids = [r.id for r in started]
    try:
        await enqueue(SYNC_SHOP, shop.domain, kind, "api", run_ids)
    except BrokerUnavailableError:
        created = [r.id for r in started if r.created]
        await _store_call(lambda: runs.cancel_runs(created, "the job queue was unavailable"))
        raise Problem.unavailable("the job queue is unavailable; try again shortly") from None
    return json_response(
        {
            "run_id": str(group),
            "runs": [
                {
                    "id": r.id,
                    "resource": r.resource,
                    "kind": r.kind,
                    "status": r.status,
                    "new": r.created,
                }
                for r in started
            ],
        },
        status=202,
    )


async def sync_status(request: web.Request) -> web.Response:
    """GET /api/sync: per resource, the last run, counts, error, and the next scheduled run."""
    shop = _usable_shop(request)
    interval_s = request.app[keys.CONFIG].sync.interval_s
    state = await _store_call(lambda: runs.sync_state(shop, interval_s=interval_s))
    return json_response(state)


def routes() -> list[web.RouteDef]:
    """The data API's routes."""
    table = [web.get(f"/api/{r}", list_handler(r), name=f"api_{r}") for r in columns.LISTED]
    table += [
        web.post("/api/sync", start_sync, name="api_sync_start"),
        web.get("/api/sync", sync_status, name="api_sync_status"),
    ]
    return table
