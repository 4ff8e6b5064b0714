"""API list pages cached in Redis, per shop, under a version every write bumps.

A page is stored under `api:page:{shop}:v{version}:{hash of the request}`. Writers bump
`api:version:{shop}` after they commit, so a reader that saw the old version can at worst
fill a key nobody will read again: a page is never served stale after a write. The TTL only
frees memory.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server import fallbacks

log = logging.getLogger(__name__)


def version_key(shop_id: int) -> str:
    """The Redis key holding a shop's cache version."""
    return f"api:version:{shop_id}"


async def bump_version(redis: aioredis.Redis, shop_id: int) -> None:
    """Invalidate every cached page of the shop (after a committed write)."""
    await bump_versions(redis, [shop_id])


async def bump_versions(redis: aioredis.Redis, shop_ids: Iterable[int]) -> None:
    """Invalidate every cached page of each shop (after a committed write): one round trip."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for shop_id in shop_ids:
                pipe.incr(version_key(shop_id))
            await pipe.execute()
    except RedisError as e:
        # Cached pages then live at most cache_ttl_s; the write itself is committed.
        log.warning("could not bump the cache version: %s", type(e).__name__)


class PageCache:
    """Get and put list pages of one shop; failures of Redis degrade to uncached reads."""

    def __init__(self, redis: aioredis.Redis, *, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def version(self, shop_id: int) -> int | None:
        """The shop's current version (0 before any write); None when Redis is down."""
        try:
            raw = await self.redis.get(version_key(shop_id))
        except RedisError as e:
            log.warning("cache unavailable: %s", type(e).__name__)
            fallbacks.count(fallbacks.CACHE)  # the page is read from PostgreSQL
            return None
        return int(raw) if raw is not None else 0

    @staticmethod
    def key(shop_id: int, version: int, request_key: str) -> str:
        """The key of one page."""
        digest = hashlib.sha256(request_key.encode()).hexdigest()[:32]
        return f"api:page:{shop_id}:v{version}:{digest}"

    async def get(self, key: str) -> bytes | None:
        """The cached body, or None."""
        try:
            value = await self.redis.get(key)
        except RedisError:
            return None
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def put(self, key: str, body: bytes) -> None:
        """Store a body under the key for ttl_s."""
        try:
            await self.redis.set(key, body, ex=self.ttl_s)
        except RedisError as e:
            log.warning("could not cache a page: %s", type(e).__name__)
