"""Shopify's deprecation notices: `X-Shopify-API-Deprecated-Reason` on Admin API answers.

Shopify adds the header to an answer whose request used a deprecated field, argument or
enum value. Every such answer counts in a Redis hash, by operation, which every process
(web or worker) adds to and the web's /metrics reads
(`shopify_api_deprecated_calls_total{operation}`); the first answer of an operation and API
version across all processes gets one warning log line with Shopify's reason.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.metrics import DEPRECATED_CALLS_KEY

logger = logging.getLogger(__name__)

DEPRECATED_HEADER = "X-Shopify-API-Deprecated-Reason"
# "operation|version" members already logged once.
LOGGED_KEY = "metrics:shopify:deprecated_logged"
MAX_REASON_CHARS = 500
MAX_OPERATION_CHARS = 100


class DeprecationNotices:
    """Counts and logs deprecation headers; never fails the call it is told about."""

    def __init__(self, redis: aioredis.Redis, *, api_version: str) -> None:
        self._redis = redis
        self._api_version = api_version
        # This process's own memory of what it logged: no Redis round trip for the log check.
        self._logged: set[str] = set()

    async def record(self, operation: str, reason: str) -> None:
        """One answer of `operation` carried the header with `reason`."""
        operation = operation[:MAX_OPERATION_CHARS] or "anonymous"
        member = f"{operation}|{self._api_version}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(DEPRECATED_CALLS_KEY, operation, 1)
                pipe.sadd(LOGGED_KEY, member)
                _, added = await pipe.execute()
        except (RedisError, OSError) as e:
            logger.warning("deprecation notice not counted: %s", type(e).__name__)
            added = member not in self._logged
        if added and member not in self._logged:
            logger.warning(
                "Shopify deprecation notice for %s on API version %s: %s",
                operation,
                self._api_version,
                reason.strip()[:MAX_REASON_CHARS],
                extra={"operation": operation, "api_version": self._api_version},
            )
        self._logged.add(member)
