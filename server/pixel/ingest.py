"""The pixel ingest service of a web process: key lookup, rate limits, group commit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from redis.asyncio import Redis
from tortoise import Tortoise

from server.actor_names import AGGREGATE_PIXEL_INBOX
from server.config import PixelConfig
from server.groupcommit import CommitConnections, GroupCommitter
from server.pixel.events import Limits
from server.pixel.store import store_batches
from server.ratelimit import Rate, RateLimiter
from server.wake import Debounced, Waker

# The pipeline step's actor (AGGREGATE_PIXEL_INBOX, actors/pixel.py) is woken by name at
# most this often per web process (and always after the last flush): one aggregation step
# then takes everything owed.
WAKE_INTERVAL_S = 1.0
# What PostgreSQL says of a value it refuses: that request's fault, not its neighbours'.
ITEM_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.ProgramLimitExceededError,
)

_MAX_CACHED_KEYS = 100_000
_LOOKUP = """
SELECT w.shop_id, w.status = 'active' AS active
FROM web_pixels w JOIN shops s ON s.id = w.shop_id
WHERE w.ingest_key = $1 AND s.installed_at IS NOT NULL AND s.uninstalled_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class KeyState:
    """What an ingest key stands for: its shop, and whether it is accepted."""

    shop_id: int
    active: bool


# What `IngestKeys.cached` answers for a key it holds no live entry for.
MISS = object()


class IngestKeys:
    """Ingest key -> shop, cached per process for `ttl_s` (unknown keys too)."""

    def __init__(self, *, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, KeyState | None]] = {}

    def cached(self, key: str) -> KeyState | object | None:
        """The key's state from this process's cache, without awaiting; MISS if not there."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return MISS

    async def get(self, key: str) -> KeyState | None:
        """The key's state, from the cache or the database (errors propagate: 503)."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        connection = Tortoise.get_connection("default")
        rows = await connection.execute_query_dict(_LOOKUP, [key])
        state = KeyState(int(rows[0]["shop_id"]), bool(rows[0]["active"])) if rows else None
        if len(self._cache) >= _MAX_CACHED_KEYS:
            self._cache.clear()
        self._cache[key] = (now + self._ttl_s, state)
        return state

    def forget(self, key: str) -> None:
        """Drop a key from this process's cache (after activation or deactivation)."""
        self._cache.pop(key, None)


class PixelIngest:
    """Everything POST /pixel/events needs, opened and closed with the app."""

    def __init__(
        self, config: PixelConfig, *, redis: Redis, connections: CommitConnections
    ) -> None:
        self.config = config
        self.connections = connections
        self.limits = Limits(
            max_event_bytes=config.max_event_bytes,
            max_string_chars=config.max_string_chars,
            max_future_skew_s=config.max_future_skew_s,
        )
        self.keys = IngestKeys(ttl_s=config.key_cache_ttl_s)
        self.limiter = RateLimiter(redis, lease_s=config.rate_lease_s, prefix="ratelimit:pixel")
        self.shop_rate = Rate("shop", config.shop_events_per_s, config.shop_burst_events)
        self.ip_rate = Rate("ip", config.ip_requests_per_s, config.ip_burst_requests)
        self._waker = Waker(name="pixel-wake")
        self._wake = Debounced(self._waker, AGGREGATE_PIXEL_INBOX, interval_s=WAKE_INTERVAL_S)
        self.committer: GroupCommitter[str, int] = GroupCommitter(
            self._flush,
            interval_s=config.flush_interval_ms / 1000,
            max_weight=config.flush_max_events,
            max_bytes=config.flush_max_bytes,
            is_item_error=lambda e: isinstance(e, ITEM_ERRORS),
            name="pixel-commit",
        )

    async def _flush(self, parts: list[str]) -> list[int]:
        stored = await store_batches(
            '{"batches":[' + ",".join(parts) + "]}",
            connections=self.connections,
            timeout_s=self.config.commit_timeout_s,
        )
        self._wake.request()  # committed: the pipeline may run now
        return [stored] * len(parts)

    @property
    def retry_after(self) -> float:
        return self.config.retry_after_s

    async def wake_idle(self) -> None:
        """Wait until the pipeline's wake-ups asked for so far were sent (or failed)."""
        await self._wake.idle()

    def start(self) -> None:
        self._wake.start()
        self.committer.start()

    async def close(self) -> None:
        await self.committer.close()
        await self.connections.close()
        await self._wake.close()
        await self._waker.close()


def encode_part(
    *, shop_id: int, received_at: str, version: str | None, events: list[dict[str, Any]]
) -> str:
    """One request's batch as the JSON the ingest statement reads."""
    return orjson.dumps(
        {"shop_id": shop_id, "received_at": received_at, "version": version, "events": events}
    ).decode()
