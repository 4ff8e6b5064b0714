"""Rate limits on every route, through the one limiter (server/ratelimit.py).

| routes          | bucket key             |
| --------------- | ---------------------- |
| /auth/*         | client IP              |
| /api/*          | shop (session token)   |
| /webhooks       | shop (verified HMAC)   |
| /pixel/events   | IP, then shop (events) |
| /proxy/ /ext/ /flow/ | verified shop (*) |
| everything else | client IP              |

(*) charged by the handler (`limit_verified_shop`) once the signature or token named the
shop. As on /webhooks, a request refused 401 spends nothing: per IP would let one
stranger's forgeries block every shop behind a load balancer (and all app proxy and Flow
calls come from Shopify's servers), per named shop would let them spend its budget. A path
under these prefixes that no route matches is limited per IP.

When Redis is down, every limit holds per process (the limiter's own buckets, for
`ratelimit.DOWN_FOR_S` after a Redis error, so an outage costs one failed call per process
and `ratelimit.REDIS_TIMEOUT_S` at most, not one per request): nothing is refused because
Redis is gone, and nothing goes unlimited.

/webhooks charges only deliveries whose HMAC verified (anyone can forge the shop header, so
charging before would let a stranger spend a shop's budget): a delivery is refused with 429
when this process already knows the shop is over its ceiling, before anything is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis

from server.config import Config
from server.metrics import Metrics
from server.problem import Problem
from server.ratelimit import Rate, RateLimited, RateLimiter
from server.web import keys

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks"
# The intake lanes charge their own limits in their handlers (server/web/lanes.py): the
# pixel's and the webhooks' per-shop ceiling.
_OWN_LIMITS = frozenset({"/pixel/events", WEBHOOK_PATH})
# Signed surfaces: the shop is known only once the signature or token verified, and all of
# a proxy's storefront calls come from Shopify's servers (a per-IP bucket would be shared by
# every shop), so the handler charges the verified shop's bucket.
_VERIFIED_SHOP_PREFIXES = ("/proxy/", "/ext/", "/flow/")


def client_address(request: web.BaseRequest, *, trust_forwarded_for: bool) -> str:
    """The client's address for per-IP limits.

    Behind a trusted load balancer, the right-most X-Forwarded-For entry (the one the
    balancer appended; anything left of it came from the client and can be forged).
    """
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return request.remote or "unknown"


def too_many_requests(scope: str, retry_after_s: int) -> Problem:
    """429 problem+json naming the limit, with Retry-After."""
    return Problem(
        429,
        f"Too many requests: the {scope} rate limit is exceeded; retry after {retry_after_s} s",
        retry_after=retry_after_s,
        limit=scope,
    )


class EdgeLimits:
    """The route limits of one web process (per process while Redis is down: see above)."""

    def __init__(self, config: Config, redis: Redis, metrics: Metrics) -> None:
        limits = config.rate_limits
        # Keys carry the deployment's namespace: several deployments (or test runs) can
        # share one Redis without sharing buckets.
        self.limiter = RateLimiter(
            redis, lease_s=limits.lease_s, prefix=f"ratelimit:{config.broker.namespace}"
        )
        self.auth_ip = Rate("auth-ip", limits.auth_ip_per_s, limits.auth_ip_burst)
        self.api_shop = Rate("api-shop", limits.api_shop_per_s, limits.api_shop_burst)
        self.webhook_shop = Rate(
            "webhook-shop", limits.webhook_shop_per_s, limits.webhook_shop_burst
        )
        self.other_ip = Rate("ip", limits.ip_per_s, limits.ip_burst)
        self.verified_shop = {
            "proxy": Rate("proxy-shop", limits.proxy_shop_per_s, limits.proxy_shop_burst),
            "ext": Rate("ext-shop", limits.ext_shop_per_s, limits.ext_shop_burst),
            "flow": Rate("flow-shop", limits.flow_shop_per_s, limits.flow_shop_burst),
        }
        self.trust_forwarded_for = config.pixel.trust_forwarded_for
        self._metrics = metrics
        self._charging: set[asyncio.Task[None]] = set()
        # Charges for work already done, waiting on the one take running for their key.
        self._owed: dict[tuple[str, str], int] = {}

    def refused(self, scope: str, retry_after_s: int) -> Problem:
        """Count a 429 and build it."""
        self._metrics.rate_limited.labels(scope).inc()
        return too_many_requests(scope, retry_after_s)

    async def take(self, rate: Rate, key: str) -> None:
        """Spend one token or raise the 429 (per process while Redis is down)."""
        if self.limiter.spend_leased(rate, key):
            return  # the common case: no Redis call, nothing awaited
        errors = self.limiter.store_errors
        try:
            await self.limiter.take(rate, key)
        except RateLimited as e:
            raise self.refused(e.scope, e.retry_after_s) from None
        finally:
            if self.limiter.store_errors != errors:
                self._metrics.rate_limit_unavailable.inc()

    async def charge_after(self, rate: Rate, key: str) -> None:
        """Spend one token for work already done: over the limit only blocks what follows."""
        with contextlib.suppress(Problem):
            await self.take(rate, key)

    def charge_stored(self, rate: Rate, key: str) -> None:
        """charge_after without waiting: the lease covers it, or a take runs on its own.
        While one runs for the key, later charges are added to it (one task and one Redis
        call for all of them, not one each)."""
        if self.limiter.spend_leased(rate, key):
            return
        slot = (rate.scope, key)
        owed = self._owed.get(slot)
        self._owed[slot] = (owed or 0) + 1
        if owed is not None:
            return  # the running charge takes this one too
        task = asyncio.get_running_loop().create_task(self._charge_owed(rate, key, slot))
        self._charging.add(task)
        task.add_done_callback(self._charging.discard)

    async def _charge_owed(self, rate: Rate, key: str, slot: tuple[str, str]) -> None:
        try:
            while (owed := self._owed.get(slot, 0)) > 0:
                with contextlib.suppress(Problem, RateLimited):
                    if not self.limiter.spend_leased(rate, key, owed):
                        errors = self.limiter.store_errors
                        try:
                            await self.limiter.take(rate, key, owed)
                        finally:
                            if self.limiter.store_errors != errors:
                                self._metrics.rate_limit_unavailable.inc()
                # What was charged is settled; what arrived meanwhile goes round again.
                left = self._owed.get(slot, 0) - owed
                if left > 0:
                    self._owed[slot] = left
                else:
                    self._owed.pop(slot, None)
        finally:
            self._owed.pop(slot, None)


EDGE_LIMITS = web.AppKey("edge_limits", EdgeLimits)


@web.middleware
async def rate_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The route's limit (after session-token auth, so /api/* knows its shop)."""
    path = request.path
    limits = request.app[EDGE_LIMITS]
    if request.method == "OPTIONS":  # CORS preflights: no shop yet, so per client IP
        address = client_address(request, trust_forwarded_for=limits.trust_forwarded_for)
        await limits.take(limits.other_ip, address)
        return await handler(request)
    if path in _OWN_LIMITS:
        return await handler(request)
    if path.startswith(_VERIFIED_SHOP_PREFIXES) and request.match_info.http_exception is None:
        return await handler(request)
    if path.startswith("/api/"):
        shop = request.get(keys.SHOP)
        if shop is not None:
            await limits.take(limits.api_shop, shop.domain)
        return await handler(request)
    address = client_address(request, trust_forwarded_for=limits.trust_forwarded_for)
    rate = limits.auth_ip if path.startswith("/auth/") else limits.other_ip
    await limits.take(rate, address)
    return await handler(request)


async def limit_verified_shop(request: web.Request, surface: str, shop: str) -> None:
    """Spend one token of the verified shop's bucket on `surface` (proxy, ext, flow); 429."""
    limits = request.app[EDGE_LIMITS]
    await limits.take(limits.verified_shop[surface], shop)


async def edge_limits_ctx(app: web.Application) -> AsyncIterator[None]:
    """The route limits, over the app's Redis pool."""
    app[EDGE_LIMITS] = EdgeLimits(app[keys.CONFIG], app[keys.REDIS], app[keys.METRICS])
    yield
