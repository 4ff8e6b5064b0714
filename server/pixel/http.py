"""The pixel flow's HTTP edge: POST /pixel/events (public), the extension and analytics APIs.

POST /pixel/events is the public endpoint the Web Pixel posts storefront events to.

CORS (open to every origin, `null` included, without credentials) is the policy in
server/web/cors.py; the ingest key in the body is what identifies the shop, never the Origin.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from tortoise.exceptions import OperationalError

from models import Shop, WebPixel
from server.db import connect
from server.groupcommit import CommitConnections, ShuttingDownError
from server.metrics import Metrics
from server.pixel import analytics
from server.pixel.events import EnvelopeError, valid_version, validate_event
from server.pixel.extension import activate, deactivate, describe
from server.pixel.ingest import ITEM_ERRORS, MISS, KeyState, PixelIngest, encode_part
from server.problem import Problem
from server.ratelimit import Rate, RateLimited
from server.shopify import (
    ShopCredentials,
    ShopifyError,
)
from server.shops.tokens import ShopTokenError
from server.store_errors import STORE_DOWN_ERRORS
from server.web import keys
from server.web.bodies import read_capped
from server.web.limits import client_address, too_many_requests
from server.web.responses import json_response
from server.web.session_auth import shopify_problem, token_problem

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 64
# What a store call can raise when the store is down or unreachable.
_STORE_ERRORS: tuple[type[BaseException], ...] = (*STORE_DOWN_ERRORS, OperationalError)
# What makes a flush fail for every request in it: 503, nothing accepted.
_COMMIT_ERRORS: tuple[type[BaseException], ...] = (*_STORE_ERRORS, ShuttingDownError)


async def pixel_ctx(app: web.Application) -> AsyncIterator[None]:
    """The ingest service (group commit into PostgreSQL, key cache, rate limiter)."""
    from server.pixel.partitions import ensure_pixel_partitions

    # Today's partitions exist before the first event comes, whatever the workers do. A
    # database that is down now does not stop the start (readiness says so; the workers'
    # sweeper and the next start make them).
    try:
        await ensure_pixel_partitions()
    except _STORE_ERRORS as e:
        log.warning("pixel partitions not checked at start: %s", type(e).__name__)
    config = app[keys.CONFIG]
    connections = CommitConnections(
        functools.partial(connect, config, role="web", timeout_s=config.pixel.commit_timeout_s)
    )
    ingest = PixelIngest(config.pixel, redis=app[keys.REDIS], connections=connections)
    ingest.start()
    app[keys.PIXEL] = ingest
    yield
    await ingest.close()


async def _take(ingest: PixelIngest, metrics: Metrics, rate: Rate, key: str, cost: int) -> None:
    if ingest.limiter.spend_leased(rate, key, cost):
        return  # the common case: this process's lease covers it, nothing awaited
    try:
        # Redis down is not an error here: the limiter falls back to this process's buckets.
        await ingest.limiter.take(rate, key, cost)
    except RateLimited as e:
        metrics.rate_limited.labels(f"pixel-{e.scope}").inc()
        raise too_many_requests(f"pixel {e.scope}", e.retry_after_s) from e


async def _read_body(request: web.BaseRequest, limit: int) -> bytes:
    body = await read_capped(request, limit)
    if body is None:
        raise Problem(413, f"Request body is larger than {limit} bytes")
    return body


def _envelope(body: bytes, *, max_events: int) -> tuple[dict[str, Any], list[Any]]:
    """The post's document and its events, or the 400/413 that says what is wrong."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise Problem(400, "Body is not valid JSON") from e
    if not isinstance(document, dict):
        raise Problem(400, "Body must be a JSON object with accountID and events")
    account_id = document.get("accountID")
    if not isinstance(account_id, str) or not 0 < len(account_id) <= MAX_KEY_CHARS:
        raise Problem(400, "accountID must be a non-empty string")
    events = document.get("events")
    if not isinstance(events, list) or not events:
        raise Problem(400, "events must be a non-empty array")
    if len(events) > max_events:
        raise Problem(413, f"At most {max_events} events per request")
    return document, events


async def _key_state(ingest: PixelIngest, account_id: str) -> KeyState:
    """The shop of an active ingest key (cached per process), else 401; 503 when the
    database is needed and down."""
    state = ingest.keys.cached(account_id)
    if state is MISS:
        try:
            state = await ingest.keys.get(account_id)
        except _STORE_ERRORS as e:
            log.warning("ingest key lookup failed: %s", type(e).__name__)
            raise Problem(
                503, "Database unavailable; retry later", retry_after=ingest.retry_after
            ) from e
    if not isinstance(state, KeyState) or not state.active:
        raise Problem(401, "accountID is not an active ingest key")
    return state


async def _commit(ingest: PixelIngest, part: str, events: int) -> None:
    """Hand the post's events to the group commit and wait until they are committed."""
    try:
        await ingest.committer.submit(part, weight=events, size=len(part))
    except ITEM_ERRORS as e:
        log.warning("pixel batch refused by the database: %s", type(e).__name__)
        raise Problem(400, "A value in the batch could not be stored") from e
    except _COMMIT_ERRORS as e:
        log.warning("pixel batch not stored: %s", type(e).__name__)
        raise Problem(
            503, "The database is unavailable; nothing was accepted", retry_after=ingest.retry_after
        ) from e


async def post_events(request: web.BaseRequest, app: web.Application) -> web.Response:
    """Validate a batch of pixel events, commit the valid ones, answer 202 with the rejects.

    An intake lane (server/web/lanes.py)."""
    ingest = app[keys.PIXEL]
    metrics = app[keys.METRICS]
    config = ingest.config
    address = client_address(request, trust_forwarded_for=config.trust_forwarded_for)
    await _take(ingest, metrics, ingest.ip_rate, address, 1)
    body = await _read_body(request, config.max_request_bytes)
    document, events = _envelope(body, max_events=config.max_events_per_request)
    state = await _key_state(ingest, document["accountID"])

    now = datetime.now(UTC)
    # No event can exceed the per-event limit when the whole body is under it.
    check_size = len(body) > config.max_event_bytes
    limits = ingest.limits
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        try:
            accepted.append(validate_event(event, limits=limits, now=now, check_size=check_size))
        except EnvelopeError as e:
            rejected.append({"index": index, "reason": str(e)})
    if not accepted:
        raise Problem(400, "No event in the batch is valid", rejected=rejected)

    await _take(ingest, metrics, ingest.shop_rate, str(state.shop_id), len(accepted))
    part = encode_part(
        shop_id=state.shop_id,
        received_at=now.isoformat(),
        version=valid_version(document.get("version")),
        events=accepted,
    )
    await _commit(ingest, part, len(accepted))
    if rejected:
        return json_response({"accepted": len(accepted), "rejected": rejected}, status=202)
    return web.Response(
        status=202,
        body=b'{"accepted":%d,"rejected":[]}' % len(accepted),
        content_type="application/json",
    )


# --------------------------------------------------------------- the extension (admin)


async def _credentials(request: web.Request, shop: Shop) -> ShopCredentials:
    try:
        token = await request.app[keys.SHOP_TOKENS].access_token(shop.domain)
    except ShopTokenError as e:
        raise token_problem(e, app_url=request.app[keys.CONFIG].app.url) from e
    return ShopCredentials(shop=shop.domain, access_token=token)


def _shopify_problem(error: ShopifyError) -> Problem:
    return shopify_problem(
        error, what="the web pixel change", unavailable="Shopify is unavailable; retry later"
    )


async def get_extension(request: web.Request) -> web.Response:
    """GET /api/extension."""
    return json_response(await describe(request[keys.SHOP]))


async def activate_extension(request: web.Request) -> web.Response:
    """POST /api/extension/activate."""
    shop = request[keys.SHOP]
    creds = await _credentials(request, shop)
    try:
        pixel = await activate(
            shop,
            shopify=request.app[keys.SHOPIFY],
            creds=creds,
            app_url=request.app[keys.CONFIG].app.url,
        )
    except ShopifyError as e:
        log.warning("web pixel activation failed: %s", type(e).__name__)
        raise _shopify_problem(e) from e
    request.app[keys.PIXEL].keys.forget(pixel.ingest_key)
    return json_response(await describe(shop))


async def deactivate_extension(request: web.Request) -> web.Response:
    """POST /api/extension/deactivate."""
    shop = request[keys.SHOP]
    ingest_keys = request.app[keys.PIXEL].keys
    pixel = await WebPixel.get_or_none(shop_id=shop.id)
    if pixel is not None and pixel.web_pixel_id:
        creds = await _credentials(request, shop)
    else:
        creds = ShopCredentials(shop=shop.domain, access_token="")  # nothing to call Shopify for
    try:
        await deactivate(
            shop, shopify=request.app[keys.SHOPIFY], creds=creds, ingest_keys=ingest_keys
        )
    except ShopifyError as e:
        log.warning("web pixel deletion failed: %s", type(e).__name__)
        raise _shopify_problem(e) from e
    return json_response(await describe(shop))


# --------------------------------------------------------------- analytics (admin)


async def get_summary(request: web.Request) -> web.Response:
    """GET /api/analytics/summary?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, inclusive)."""
    start, end = analytics.parse_range(request.query)
    body = await analytics.summary(request[keys.SHOP].id, start=start, end=end)
    return json_response(body)
