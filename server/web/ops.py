"""Ops endpoints: liveness, readiness (DB, Redis, broker) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tortoise import Tortoise

from server.problem import RETRY_AFTER_S, retry_after_header
from server.web import keys, openapi
from server.web.responses import json_response, problem_response

log = logging.getLogger(__name__)

READY_CHECK_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers. Checks nothing else on purpose."""
    return json_response({"status": "ok"})


async def _check_db() -> None:
    await Tortoise.get_connection("default").execute_query("SELECT 1")


async def _check_redis(request: web.Request) -> None:
    await request.app[keys.REDIS].ping()


async def _check_broker(request: web.Request) -> None:
    broker = request.app[keys.BROKER]
    client = getattr(broker, "client", None)
    if client is not None:
        # Redis broker: its own connection pool (it may be another server than REDIS_URL).
        await asyncio.to_thread(client.ping)
    elif hasattr(broker, "connection"):
        # RabbitMQ: opening the (thread-local) connection proves the server answers.
        await asyncio.to_thread(lambda: broker.connection)


async def _timed(check: Awaitable[None]) -> str | None:
    try:
        await asyncio.wait_for(check, READY_CHECK_TIMEOUT_S)
    except TimeoutError:
        return "timed out"
    except Exception as e:
        return type(e).__name__
    return None


# Redis and the broker are helpers: without them deliveries and events are still taken
# (rate limits per process, wake-ups left to the sweeper, pages read from PostgreSQL), so a
# load balancer must keep the process. Only the database makes it unready.
_HELPERS = ("redis", "broker")


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers (else 503). Redis or the broker not answering is 200
    with status "degraded" and the check's detail."""
    names = ("database", "redis", "broker")
    results = await asyncio.gather(
        _timed(_check_db()), _timed(_check_redis(request)), _timed(_check_broker(request))
    )
    checks = {}
    for name, err in zip(names, results, strict=True):
        if err is None:
            checks[name] = "ok"
        elif name in _HELPERS:
            checks[name] = f"degraded: {err}"
        else:
            checks[name] = f"failed: {err}"
    failed = [name for name, err in zip(names, results, strict=True) if err is not None]
    if "database" in failed:
        log.warning("not ready: %s", ", ".join(failed), extra={"checks": checks})
        return problem_response(
            503,
            f"Not ready: {', '.join(failed)} unavailable",
            title="Service Unavailable",
            headers=retry_after_header(RETRY_AFTER_S),
            checks=checks,
        )
    if failed:
        log.warning("degraded: %s", ", ".join(failed), extra={"checks": checks})
        return json_response({"status": "degraded", "checks": checks})
    return json_response({"status": "ok", "checks": checks})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition: HTTP metrics plus Dramatiq queue and actor metrics."""
    instruments = request.app[keys.METRICS]
    try:
        await asyncio.wait_for(
            instruments.refresh_dramatiq(
                request.app[keys.REDIS],
                request.app[keys.BROKER],
                broker_namespace=request.app[keys.CONFIG].broker.namespace,
            ),
            READY_CHECK_TIMEOUT_S,
        )
    except Exception as e:
        # Still serve the HTTP metrics; the broker's are stale until it is back.
        log.warning("could not refresh dramatiq metrics: %s", type(e).__name__)
    try:
        await asyncio.wait_for(
            instruments.refresh_deprecated_calls(request.app[keys.REDIS]), READY_CHECK_TIMEOUT_S
        )
    except Exception as e:
        log.warning("could not refresh deprecation metrics: %s", type(e).__name__)
    try:
        await asyncio.wait_for(
            instruments.refresh_outbox(Tortoise.get_connection("default")),
            READY_CHECK_TIMEOUT_S,
        )
    except Exception as e:
        # The database is down: the outbox gauges are stale (readiness says why).
        log.warning("could not refresh outbox metrics: %s", type(e).__name__)
    body = generate_latest(instruments.exposition_registry())
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json: the API's OpenAPI document."""
    return json_response(openapi.document())
