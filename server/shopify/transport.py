"""The GraphQL Admin API transport: one call with shared cost-based throttling and retries.

Every call names its shop and token (`ShopCredentials`); the token goes only into the
`X-Shopify-Access-Token` header of Admin API calls, never into logs or exceptions.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never

from server.retry import retry
from server.shopify.cost import estimate_query_cost, operation_name
from server.shopify.deprecations import DEPRECATED_HEADER, DeprecationNotices
from server.shopify.errors import (
    ShopifyAuthError,
    ShopifyConnectionError,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyServerError,
    ShopifyThrottledError,
    ShopifyUserError,
)
from server.shopify.throttle import CostBucket, ThrottleStatus

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

DEFAULT_API_VERSION = "2026-10"
DEFAULT_ADMIN_ORIGIN = "https://{shop}"


@dataclass(frozen=True, slots=True)
class ShopCredentials:
    """A shop domain and its Admin API access token (hidden from repr)."""

    shop: str
    access_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class QueryCost:
    """Shopify's `extensions.cost` of one response."""

    requested: float | None
    actual: float | None
    throttle_status: ThrottleStatus | None


@dataclass(slots=True)
class GraphQLResult:
    """`data` and cost of one successful GraphQL call."""

    data: JsonObject
    cost: QueryCost | None


@dataclass(frozen=True, slots=True)
class ForwardedAnswer:
    """Shopify's answer to a forwarded operation, byte for byte (`retry_after` in seconds
    when Shopify throttled it)."""

    status: int
    body: bytes = field(repr=False)
    content_type: str
    retry_after_s: float | None = None
    deprecated_reason: str | None = None  # Shopify's X-Shopify-API-Deprecated-Reason


@dataclass(slots=True)
class _Call:
    """Retry bookkeeping of one `execute`."""

    shop: str
    operation: str
    estimate: float
    failures: int = 0
    throttled: int = 0


class _Again(Exception):
    """An attempt whose call is to be sent again after `delay_s` (its budgets allow it)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(delay_s)
        self.delay_s = delay_s


def _the_delay_the_attempt_chose(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome is not None else None
    return error.delay_s if isinstance(error, _Again) else 0.0


# The retry policy of a GraphQL call is the attempt's own (`_Call` keeps its budgets: failed
# sends, THROTTLED answers; the delay is Shopify's Retry-After, the throttle's deficit or
# backoff with full jitter): tenacity sends it again for as long as an attempt says so.
_SENT_AGAIN_WHILE_TOLD = AsyncRetrying(
    retry=retry_if_exception_type(_Again),
    wait=_the_delay_the_attempt_chose,
    stop=stop_never,
    reraise=True,
)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header ("2", "2.0"); None if absent or unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return None
    return seconds


def _parse_cost(extensions: Any) -> QueryCost | None:
    if not isinstance(extensions, dict) or not isinstance(extensions.get("cost"), dict):
        return None
    cost = extensions["cost"]
    status = cost.get("throttleStatus")
    throttle = None
    if isinstance(status, dict):
        try:
            throttle = ThrottleStatus(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            throttle = None
    requested = cost.get("requestedQueryCost")
    actual = cost.get("actualQueryCost")
    return QueryCost(
        requested=float(requested) if requested is not None else None,
        actual=float(actual) if actual is not None else None,
        throttle_status=throttle,
    )


def _is_throttled(errors: Sequence[Any]) -> bool:
    return any(
        isinstance(e, dict)
        and isinstance(e.get("extensions"), dict)
        and e["extensions"].get("code") == "THROTTLED"
        for e in errors
    )


def _error_summary(errors: Sequence[Any]) -> str:
    messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    return "; ".join(messages[:3])


class GraphQLTransport:
    """GraphQL Admin API calls with shared cost-based throttling and retries.

    One instance per process (as part of `ShopifyClient`), sharing the app's
    `ClientSession` and Redis (the per-shop cost bucket).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: aioredis.Redis,
        *,
        api_version: str = DEFAULT_API_VERSION,
        admin_origin: str = DEFAULT_ADMIN_ORIGIN,
        timeout_s: float = 10.0,
        max_attempts: int = 5,
        max_throttle_retries: int = 10,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_throttle_wait_s: float = 60.0,
        max_bucket_wait_s: float = 120.0,
        redis_key_prefix: str = "shopify:cost-bucket:",
        default_bucket_max: float = 2000.0,
        default_restore_rate: float = 100.0,
        bulk_poll_interval_s: float = 2.0,
        bulk_read_chunk_bytes: int = 64 * 1024,
    ) -> None:
        if "{shop}" not in admin_origin:
            raise ValueError("admin_origin must contain '{shop}'")
        self._session = session
        self._api_version = api_version
        self._admin_origin = admin_origin.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._timeout_s = timeout_s
        self._max_attempts = max(1, max_attempts)
        self._max_throttle_retries = max_throttle_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_throttle_wait_s = max_throttle_wait_s
        self._max_bucket_wait_s = max_bucket_wait_s
        # Settings of the bulk-operation calls (server/shopify/bulk.py).
        self.bulk_poll_interval_s = bulk_poll_interval_s
        self.bulk_read_chunk_bytes = bulk_read_chunk_bytes
        self.bucket = CostBucket(
            redis,
            key_prefix=redis_key_prefix,
            default_max=default_bucket_max,
            default_restore_rate=default_restore_rate,
        )
        self.deprecations = DeprecationNotices(redis, api_version=api_version)

    def origin(self, shop: str) -> str:
        """The shop's origin, e.g. `https://acme.myshopify.com`."""
        return self._admin_origin.format(shop=shop)

    def graphql_url(self, shop: str) -> str:
        """The GraphQL Admin API endpoint of `shop`."""
        return f"{self.origin(shop)}/admin/api/{self._api_version}/graphql.json"

    def _backoff_s(self, attempt: int) -> float:
        # Full jitter: spreads retries of many workers hit by the same outage.
        return random.uniform(0, min(self._backoff_max_s, self._backoff_base_s * 2**attempt))

    async def execute(
        self,
        creds: ShopCredentials,
        query: str,
        variables: Mapping[str, Any] | None = None,
    ) -> GraphQLResult:
        """Run one GraphQL operation with throttling and retries; raise typed errors."""
        call = _Call(
            shop=creds.shop,
            operation=operation_name(query) or "anonymous",
            estimate=float(estimate_query_cost(query, variables)),
        )
        body = orjson.dumps({"query": query, "variables": dict(variables or {})})
        headers = {
            "X-Shopify-Access-Token": creds.access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        url = self.graphql_url(creds.shop)
        return await retry(_SENT_AGAIN_WHILE_TOLD, self._attempt, call, url, body, headers)

    async def _attempt(
        self, call: _Call, url: str, body: bytes, headers: dict[str, str]
    ) -> GraphQLResult:
        """One try: its result, a typed error, or _Again with how long to wait first."""
        if not await self.bucket.take(
            call.shop,
            call.estimate,
            max_wait_s=self._max_throttle_wait_s,
            max_total_wait_s=self._max_bucket_wait_s,
        ):
            raise ShopifyThrottledError(
                f"cost bucket would need more than {self._max_bucket_wait_s}s to allow"
                f" {call.estimate:.0f} points",
                shop=call.shop,
                operation=call.operation,
            )
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=self._timeout, ssl=True
            ) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                deprecated = resp.headers.get(DEPRECATED_HEADER)
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            outcome: GraphQLResult | float = self._connection_failed(call, e)
        else:
            if deprecated:
                await self.deprecations.record(call.operation, deprecated)
            if status == 200:
                outcome = await self._handle_body(call, raw)
            else:
                outcome = await self._handle_status(call, status, retry_after)
        if isinstance(outcome, GraphQLResult):
            return outcome
        raise _Again(outcome)

    def _connection_failed(self, call: _Call, error: Exception) -> float:
        # Whether Shopify charged the call is unknown: keep the reservation (safe side).
        call.failures += 1
        if call.failures >= self._max_attempts:
            raise ShopifyConnectionError(
                f"Admin API unreachable after {call.failures} attempts: {type(error).__name__}",
                shop=call.shop,
                operation=call.operation,
            ) from error
        delay_s = self._backoff_s(call.failures)
        logger.warning(
            "shopify %s on %s: %s, retry %d in %.2fs",
            call.operation,
            call.shop,
            type(error).__name__,
            call.failures,
            delay_s,
        )
        return delay_s

    async def _handle_status(self, call: _Call, status: int, retry_after: str | None) -> float:
        """Delay before retrying a non-200 answer, or raise its typed error."""
        if status in (401, 403):
            await self.bucket.settle(call.shop, refund=call.estimate)
            raise ShopifyAuthError(
                f"Admin API rejected the access token (HTTP {status})",
                shop=call.shop,
                operation=call.operation,
                status=status,
            )
        if status != 429 and status < 500:
            await self.bucket.settle(call.shop, refund=call.estimate)
            raise ShopifyHTTPError(
                f"Admin API answered HTTP {status}",
                shop=call.shop,
                operation=call.operation,
                status=status,
            )
        call.failures += 1
        if call.failures >= self._max_attempts:
            message = f"HTTP {status} persisted after {call.failures} attempts"
            if status == 429:
                raise ShopifyThrottledError(message, shop=call.shop, operation=call.operation)
            raise ShopifyServerError(
                message, shop=call.shop, operation=call.operation, status=status
            )
        wait_s = parse_retry_after(retry_after) if status == 429 else None
        delay_s = wait_s if wait_s is not None else self._backoff_s(call.failures)
        logger.warning(
            "shopify %s on %s: HTTP %d, retry %d in %.2fs",
            call.operation,
            call.shop,
            status,
            call.failures,
            delay_s,
        )
        return delay_s

    async def _handle_body(self, call: _Call, raw: bytes) -> GraphQLResult | float:
        """The result of an HTTP 200 answer, a delay after THROTTLED, or a typed error."""
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            raise ShopifyHTTPError(
                "Admin API answered HTTP 200 without a JSON object",
                shop=call.shop,
                operation=call.operation,
                status=200,
            )
        cost = _parse_cost(payload.get("extensions"))
        throttle = cost.throttle_status if cost else None
        errors = payload.get("errors") or []
        if isinstance(errors, str):  # REST-style {"errors": "..."} bodies
            errors = [{"message": errors}]
        if _is_throttled(errors):
            # Not charged: give back the reservation and adopt Shopify's numbers.
            await self.bucket.settle(call.shop, refund=call.estimate, status=throttle)
            call.throttled += 1
            if call.throttled > self._max_throttle_retries:
                raise ShopifyThrottledError(
                    f"THROTTLED {call.throttled} times in a row",
                    shop=call.shop,
                    operation=call.operation,
                )
            requested = cost.requested if cost and cost.requested else call.estimate
            if throttle is not None and throttle.restore_rate > 0:
                deficit = max(0.0, requested - throttle.currently_available)
                delay_s = deficit / throttle.restore_rate
            else:
                delay_s = self._backoff_s(call.throttled)
            delay_s = min(delay_s, self._max_throttle_wait_s)
            logger.info(
                "shopify %s on %s: THROTTLED, waiting %.2fs", call.operation, call.shop, delay_s
            )
            return delay_s
        actual = cost.actual if cost and cost.actual is not None else call.estimate
        await self.bucket.settle(call.shop, refund=call.estimate - actual, status=throttle)
        if errors:
            raise ShopifyGraphQLError(
                f"GraphQL errors: {_error_summary(errors)}",
                shop=call.shop,
                operation=call.operation,
                errors=errors,
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ShopifyGraphQLError(
                "GraphQL response without data",
                shop=call.shop,
                operation=call.operation,
                errors=[],
            )
        return GraphQLResult(data=data, cost=cost)

    async def forward(
        self,
        creds: ShopCredentials,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        named_operation: str | None = None,
        max_wait_s: float = 2.0,
    ) -> ForwardedAnswer:
        """Send one operation for someone else (the GraphQL proxy) and return Shopify's
        answer as it came, errors included.

        Under the shop's shared cost bucket like every call, but sent once: no retry (a
        mutation must not run twice) and no waiting beyond `max_wait_s` for points (the
        caller is a person). Raises ShopifyThrottledError when the bucket would make it
        wait longer, ShopifyAuthError on 401/403, ShopifyServerError on 5xx and
        ShopifyConnectionError when Shopify cannot be reached.
        """
        call = _Call(
            shop=creds.shop,
            operation=named_operation or operation_name(query) or "anonymous",
            estimate=float(estimate_query_cost(query, variables)),
        )
        if not await self.bucket.take(
            call.shop, call.estimate, max_wait_s=max_wait_s, max_total_wait_s=max_wait_s
        ):
            raise ShopifyThrottledError(
                f"cost bucket would need more than {max_wait_s}s to allow {call.estimate:.0f}"
                " points",
                shop=call.shop,
                operation=call.operation,
            )
        document: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if named_operation:
            document["operationName"] = named_operation
        headers = {
            "X-Shopify-Access-Token": creds.access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        try:
            async with self._session.post(
                self.graphql_url(creds.shop),
                data=orjson.dumps(document),
                headers=headers,
                timeout=self._timeout,
                ssl=True,
            ) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                deprecated = resp.headers.get(DEPRECATED_HEADER)
                content_type = resp.headers.get("Content-Type", "application/json")
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ShopifyConnectionError(
                f"Admin API unreachable: {type(e).__name__}",
                shop=call.shop,
                operation=call.operation,
            ) from e
        if deprecated:
            await self.deprecations.record(call.operation, deprecated)
        if status != 200:
            await self.bucket.settle(call.shop, refund=call.estimate)
            if status in (401, 403):
                raise ShopifyAuthError(
                    f"Admin API rejected the access token (HTTP {status})",
                    shop=call.shop,
                    operation=call.operation,
                    status=status,
                )
            if status >= 500:
                raise ShopifyServerError(
                    f"Admin API answered HTTP {status}",
                    shop=call.shop,
                    operation=call.operation,
                    status=status,
                )
            wait_s = parse_retry_after(retry_after) if status == 429 else None
            return ForwardedAnswer(status, raw, content_type, wait_s, deprecated)
        answer = await self._settle_forwarded(call, raw, content_type)
        return replace(answer, deprecated_reason=deprecated) if deprecated else answer

    async def _settle_forwarded(
        self, call: _Call, raw: bytes, content_type: str
    ) -> ForwardedAnswer:
        """Align the bucket with what Shopify charged; the answer itself is left alone."""
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            await self.bucket.settle(call.shop, refund=0)
            return ForwardedAnswer(200, raw, content_type)
        cost = _parse_cost(payload.get("extensions"))
        throttle = cost.throttle_status if cost else None
        errors = payload.get("errors") or []
        wait_s: float | None = None
        if isinstance(errors, list) and _is_throttled(errors):
            await self.bucket.settle(call.shop, refund=call.estimate, status=throttle)
            requested = cost.requested if cost and cost.requested else call.estimate
            if throttle is not None and throttle.restore_rate > 0:
                deficit = max(0.0, requested - throttle.currently_available)
                wait_s = deficit / throttle.restore_rate
            else:
                wait_s = 1.0
            return ForwardedAnswer(200, raw, content_type, wait_s)
        actual = cost.actual if cost and cost.actual is not None else call.estimate
        await self.bucket.settle(call.shop, refund=call.estimate - actual, status=throttle)
        return ForwardedAnswer(200, raw, content_type)

    async def query(
        self, creds: ShopCredentials, query: str, variables: Mapping[str, Any] | None = None
    ) -> JsonObject:
        """Run a query and return its `data`."""
        return (await self.execute(creds, query, variables)).data

    async def mutate(
        self,
        creds: ShopCredentials,
        mutation: str,
        variables: Mapping[str, Any],
        *,
        payload_field: str,
    ) -> JsonObject:
        """Run a mutation and return its payload; non-empty `userErrors` raise."""
        data = await self.query(creds, mutation, variables)
        payload = data.get(payload_field)
        op = operation_name(mutation)
        if not isinstance(payload, dict):
            raise ShopifyGraphQLError(
                f"mutation payload {payload_field} missing",
                shop=creds.shop,
                operation=op,
                errors=[],
            )
        user_errors = payload.get("userErrors") or []
        if user_errors:
            raise ShopifyUserError(
                f"userErrors: {_error_summary(user_errors)}",
                shop=creds.shop,
                operation=op,
                user_errors=user_errors,
            )
        return payload
