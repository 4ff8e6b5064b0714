"""The pools a worker process holds: opened after boot, closed before shutdown."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import orjson
from redis.asyncio import Redis

from server.config import Config
from server.services import ShopifyServices, build_services


@dataclass
class WorkerResources:
    """Per-process pools, bound to the Dramatiq event-loop thread's loop."""

    config: Config
    redis: Redis
    http: aiohttp.ClientSession
    services: ShopifyServices


_current: WorkerResources | None = None


def resources() -> WorkerResources:
    """The running worker's pools; raises if the worker has not booted them."""
    if _current is None:
        raise RuntimeError("worker resources are not open (is WorkerPools middleware installed?)")
    return _current


async def open_resources(config: Config, *, database: bool = True) -> WorkerResources:
    """Open Tortoise, Redis and the shared HTTP session on the running loop.

    database=False leaves Tortoise to whoever opened it in this process (a test's in-process
    worker runs on the loop of the app under test, which holds the pool)."""
    global _current
    from server.db import init_db

    if database:
        await init_db(config)
    http = aiohttp.ClientSession(
        json_serialize=lambda obj: orjson.dumps(obj).decode(),
        timeout=aiohttp.ClientTimeout(total=config.shopify.request_timeout_s * 6),
    )
    redis = Redis.from_url(config.redis.url)
    _current = WorkerResources(
        config=config, redis=redis, http=http, services=build_services(config, http, redis)
    )
    return _current


async def close_resources(*, database: bool = True) -> None:
    """Close what open_resources opened."""
    global _current
    from server.db import close_db

    current, _current = _current, None
    if current is not None:
        await current.http.close()
        await current.redis.aclose()
    if database:
        await close_db()
