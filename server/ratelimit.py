"""Token-bucket rate limits shared through Redis, without a Redis round trip per request.

The one limiter of the app: the pixel's limits and every route's (server/web/limits.py) use it.

The bucket of truth lives in Redis (a Lua script refills and takes atomically, on Redis's
clock). Each process leases a slice of it (`lease_s` worth of the rate) and spends that
locally; only when the slice is spent does a request wait for one script call. A key that
Redis refused is blocked locally until the time Redis named, so a flood costs no round trips.

Redis is only a helper: when it fails (or does not answer within `timeout_s`), the limiter
falls back for `down_for_s` to a bucket of the same rate kept by this process alone (each
process then allows the full rate: N processes allow N times it), and counts each request
it decided that way (server/fallbacks.py). Nothing is awaited while it is down.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server import fallbacks
from server.store_errors import STORE_DOWN_ERRORS

# Returns {granted, wait_ms}: granted >= min_tokens, or 0 and how long until min_tokens exist.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local granted = 0
local wait_ms = 0
if tokens >= need then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
else
  wait_ms = math.ceil((need - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], ttl)
return {granted, wait_ms}
"""

log = logging.getLogger(__name__)

_LEASE_LIFETIME_S = 1.0
_MAX_TRACKED_KEYS = 50_000
# A Redis call slower than this counts as Redis down; so does any error of Redis's.
REDIS_TIMEOUT_S = 0.5
# How long the process-local buckets decide after a failure before Redis is tried again.
DOWN_FOR_S = 5.0
_DOWN_ERRORS: tuple[type[BaseException], ...] = (RedisError, *STORE_DOWN_ERRORS)


class RateLimited(Exception):
    """Over the limit; retry after `retry_after_s` seconds."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(f"{scope} rate limit exceeded")
        self.scope = scope
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: `per_s` tokens a second, at most `burst` saved up."""

    scope: str
    per_s: int
    burst: int


@dataclass(slots=True)
class _LocalBucket:
    """A token bucket of this process alone (while Redis is down)."""

    tokens: float
    at: float


@dataclass(slots=True)
class _Lease:
    tokens: float = 0.0
    expires: float = 0.0
    blocked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    """Leases tokens from Redis buckets and spends them locally."""

    def __init__(
        self,
        redis: Redis,
        *,
        lease_s: float,
        prefix: str,
        timeout_s: float = REDIS_TIMEOUT_S,
        down_for_s: float = DOWN_FOR_S,
    ) -> None:
        self._redis = redis
        self._lease_s = lease_s
        self._prefix = prefix
        self._leases: dict[str, _Lease] = {}
        self._script = redis.register_script(_TAKE)
        self._timeout_s = timeout_s
        self._down_for_s = down_for_s
        self._down_until = 0.0
        self._local: dict[str, _LocalBucket] = {}
        # Times Redis failed (each opens a down_for_s window); requests decided locally.
        self.store_errors = 0
        self.fallbacks = 0

    @property
    def redis_down(self) -> bool:
        """Whether this process decides on its own buckets right now."""
        return time.monotonic() < self._down_until

    def _take_local(self, rate: Rate, name: str, cost: int, now: float) -> None:
        """Spend from this process's own bucket of `name`, or raise RateLimited."""
        self.fallbacks += 1
        fallbacks.count(fallbacks.RATE_LIMIT)
        bucket = self._local.get(name)
        if bucket is None:
            if len(self._local) >= _MAX_TRACKED_KEYS:
                self._local.clear()  # every bucket starts full again: errs on allowing
            bucket = self._local[name] = _LocalBucket(float(rate.burst), now)
        bucket.tokens = min(float(rate.burst), bucket.tokens + (now - bucket.at) * rate.per_s)
        bucket.at = now
        need = min(cost, rate.burst)
        if bucket.tokens < need:
            raise RateLimited(rate.scope, max(1, math.ceil((need - bucket.tokens) / rate.per_s)))
        bucket.tokens = max(0.0, bucket.tokens - cost)

    def _prune(self, now: float) -> None:
        stale = [
            k
            for k, v in self._leases.items()
            if v.expires < now and v.blocked_until < now and not v.lock.locked()
        ]
        for key in stale:
            del self._leases[key]

    def blocked_for(self, rate: Rate, key: str) -> int | None:
        """Seconds until `key` may spend again, when this process already knows it is over
        its limit (no Redis call); None otherwise."""
        lease = self._leases.get(f"{self._prefix}:{rate.scope}:{key}")
        now = time.monotonic()
        if lease is None or lease.blocked_until <= now:
            return None
        return max(1, math.ceil(lease.blocked_until - now))

    def spend_leased(self, rate: Rate, key: str, cost: int = 1) -> bool:
        """Spend `cost` tokens from this process's live lease of `key`, if it holds them: the
        common case, with no Redis call and nothing awaited. False: call `take`."""
        lease = self._leases.get(f"{self._prefix}:{rate.scope}:{key}")
        if lease is None:
            return False
        now = time.monotonic()
        if lease.blocked_until > now or lease.expires <= now or lease.tokens < cost:
            return False
        lease.tokens -= cost
        return True

    async def take(self, rate: Rate, key: str, cost: int = 1) -> None:
        """Spend `cost` tokens of `key`'s bucket, or raise RateLimited (with Redis down, of
        this process's own bucket: see the module docstring)."""
        if self.spend_leased(rate, key, cost):
            return
        name = f"{self._prefix}:{rate.scope}:{key}"
        now = time.monotonic()
        if now < self._down_until:
            self._take_local(rate, name, cost, now)
            return
        lease = self._leases.get(name)
        if lease is None:
            if len(self._leases) >= _MAX_TRACKED_KEYS:
                self._prune(now)
            lease = self._leases[name] = _Lease()
        if lease.blocked_until > now:
            raise RateLimited(rate.scope, max(1, math.ceil(lease.blocked_until - now)))
        async with lease.lock:
            # Another request may have refilled the lease while this one waited.
            now = time.monotonic()
            if lease.blocked_until > now:
                raise RateLimited(rate.scope, max(1, math.ceil(lease.blocked_until - now)))
            if lease.expires > now and lease.tokens >= cost:
                lease.tokens -= cost
                return
            if now < self._down_until:  # Redis failed while this request waited
                self._take_local(rate, name, cost, now)
                return
            need = min(cost, rate.burst)
            want = max(need, math.ceil(rate.per_s * self._lease_s))
            ttl_ms = math.ceil(rate.burst / rate.per_s * 1000) + 1000
            try:
                async with asyncio.timeout(self._timeout_s):
                    granted, wait_ms = await self._script(
                        keys=[name], args=[rate.per_s, rate.burst, want, need, ttl_ms]
                    )
            except _DOWN_ERRORS as e:
                now = time.monotonic()
                self._down_until = now + self._down_for_s
                self.store_errors += 1
                log.warning(
                    "rate limit store unavailable (%s); per-process limits for %.0f s",
                    type(e).__name__,
                    self._down_for_s,
                )
                self._take_local(rate, name, cost, now)
                return
            if self._local:
                self._local.clear()  # Redis is back: its buckets decide again
            now = time.monotonic()
            if int(granted) < need:
                lease.blocked_until = now + int(wait_ms) / 1000
                raise RateLimited(rate.scope, max(1, math.ceil(int(wait_ms) / 1000)))
            left = lease.tokens if lease.expires > now else 0.0
            lease.tokens = max(0.0, left + int(granted) - cost)
            lease.expires = now + _LEASE_LIFETIME_S
