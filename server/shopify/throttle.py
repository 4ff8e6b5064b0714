"""One cost bucket estimate per shop, shared by every worker through Redis.

The bucket mirrors Shopify's leaky bucket (maximumAvailable, restoreRate). A caller
reserves its estimated cost atomically (Lua) before it sends (waiting its turn when the
bucket is short: reservations queue first come, first served), and settles afterwards:
the unused part of the reservation is given back and the estimate is lowered to what
Shopify reported if Shopify saw less than we thought. Reserving before sending keeps
several workers on one shop from spending the same points twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import redis.asyncio as aioredis

logger = logging.getLogger(__name__)

# KEYS[1] bucket hash; ARGV: cost, default max, default rate, ttl_s, max wait s.
# Reserves `cost` even when the bucket is short, driving it below zero: the caller sends
# once the debt has refilled ({wait_s}), and every later caller queues behind that debt.
# First come, first served, so a costly query is never starved by a stream of cheap ones.
# Returns {1, wait_s} when reserved, {0, wait_s} when the wait would exceed max wait.
_TAKE_LUA = """
local key = KEYS[1]
local cost = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', key, 'available', 'ts', 'max', 'rate')
local max = tonumber(b[3]) or tonumber(ARGV[2])
local rate = tonumber(b[4]) or tonumber(ARGV[3])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
available = math.min(max, available + math.max(0, now - ts) * rate)
if cost > max then cost = max end
local wait = 0
if available < cost then wait = (cost - available) / rate end
if wait > tonumber(ARGV[5]) then
  return {0, tostring(wait)}
end
available = available - cost
redis.call('HSET', key, 'available', tostring(available), 'ts', tostring(now),
           'max', tostring(max), 'rate', tostring(rate))
redis.call('EXPIRE', key, tonumber(ARGV[4]))
return {1, tostring(wait)}
"""

# KEYS[1] bucket hash; ARGV: refund, server available|'', server max|'', server rate|'',
# default max, default rate, ttl_s.
_SETTLE_LUA = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', key, 'available', 'ts', 'max', 'rate')
local max = tonumber(b[3]) or tonumber(ARGV[5])
local rate = tonumber(b[4]) or tonumber(ARGV[6])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
available = math.min(max, available + math.max(0, now - ts) * rate)
available = available + tonumber(ARGV[1])
if ARGV[3] ~= '' then max = tonumber(ARGV[3]) end
if ARGV[4] ~= '' then rate = tonumber(ARGV[4]) end
available = math.min(available, max)
if ARGV[2] ~= '' then available = math.min(available, tonumber(ARGV[2])) end
redis.call('HSET', key, 'available', tostring(available), 'ts', tostring(now),
           'max', tostring(max), 'rate', tostring(rate))
redis.call('EXPIRE', key, tonumber(ARGV[7]))
return tostring(available)
"""


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """Shopify's `extensions.cost.throttleStatus`."""

    maximum_available: float
    currently_available: float
    restore_rate: float


class CostBucket:
    """Shared per-shop estimate of Shopify's cost bucket."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        key_prefix: str,
        default_max: float,
        default_restore_rate: float,
        ttl_s: int = 3600,
    ) -> None:
        self._redis = redis
        self._key_prefix = key_prefix
        self._default_max = default_max
        self._default_rate = default_restore_rate
        self._ttl_s = ttl_s
        self._take = redis.register_script(_TAKE_LUA)
        self._settle = redis.register_script(_SETTLE_LUA)

    def key(self, shop: str) -> str:
        """The Redis key holding `shop`'s bucket."""
        return f"{self._key_prefix}{shop}"

    async def reserve(self, shop: str, cost: float, *, max_wait_s: float) -> float | None:
        """Reserve `cost` points: seconds to wait before sending, or None if over max_wait_s."""
        reserved, wait_s = await self._take(
            keys=[self.key(shop)],
            args=[cost, self._default_max, self._default_rate, self._ttl_s, max_wait_s],
        )
        return float(wait_s) if int(reserved) else None

    async def take(
        self, shop: str, cost: float, *, max_wait_s: float, max_total_wait_s: float
    ) -> bool:
        """Reserve `cost` points and wait until they are ours (queued first come, first served).

        False (nothing reserved) if that would mean waiting more than `max_total_wait_s`.
        """
        wait_s = await self.reserve(shop, cost, max_wait_s=max_total_wait_s)
        if wait_s is None:
            return False
        while wait_s > 0:
            # Sleep in slices so a cancelled caller wakes promptly.
            delay_s = min(wait_s, max_wait_s)
            logger.debug("shop %s: waiting %.3fs for %s cost points", shop, delay_s, cost)
            await asyncio.sleep(delay_s)
            wait_s -= delay_s
        return True

    async def settle(
        self, shop: str, *, refund: float, status: ThrottleStatus | None = None
    ) -> float:
        """Give back `refund` points (negative takes more) and align with Shopify's view."""
        server = ("", "", "")
        if status is not None:
            server = (
                str(status.currently_available),
                str(status.maximum_available),
                str(status.restore_rate),
            )
        value = await self._settle(
            keys=[self.key(shop)],
            args=[refund, *server, self._default_max, self._default_rate, self._ttl_s],
        )
        return float(value)
