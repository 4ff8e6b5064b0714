"""Shopify GraphQL Admin API client.

One instance per process, sharing the app's `ClientSession` and Redis. Every call names
its shop and token (`ShopCredentials`); the token goes only into the
`X-Shopify-Access-Token` header of Admin API calls, never into logs, exceptions or the
bulk-result download (a pre-signed URL on another host).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis

from server.shopify import operations as ops
from server.shopify.cost import estimate_query_cost, operation_name
from server.shopify.errors import (
    BulkOperationError,
    ShopifyAuthError,
    ShopifyConnectionError,
    ShopifyError,
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
MAX_PAGE_SIZE = 250
# Page sizes chosen so each page's requested cost stays under Shopify's 1000-point cap.
PRODUCTS_PAGE_SIZE = 30
VARIANTS_PAGE_SIZE = 25
ORDERS_PAGE_SIZE = 15
LINE_ITEMS_PAGE_SIZE = 10
CUSTOMERS_PAGE_SIZE = 250

_BULK_FAILED_STATES = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})


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


@dataclass(slots=True)
class _Call:
    """Retry bookkeeping of one `execute`."""

    shop: str
    operation: str
    estimate: float
    failures: int = 0
    throttled: int = 0


@dataclass(slots=True)
class BulkRecord:
    """One top-level object of a bulk result with its `__parentId` descendants."""

    node: JsonObject
    children: list[JsonObject]


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


def _dig(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def updated_since_filter(updated_since: datetime) -> str:
    """Shopify search syntax for `updated_at >= updated_since` (UTC, second precision)."""
    if updated_since.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware")
    stamp = updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>='{stamp}'"


class ShopifyClient:
    """GraphQL Admin API client with shared cost-based throttling and retries."""

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
        self._bulk_poll_interval_s = bulk_poll_interval_s
        self._bulk_read_chunk_bytes = bulk_read_chunk_bytes
        self.bucket = CostBucket(
            redis,
            key_prefix=redis_key_prefix,
            default_max=default_bucket_max,
            default_restore_rate=default_restore_rate,
        )

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
        while True:
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
                    raw = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as e:
                outcome: GraphQLResult | float = self._connection_failed(call, e)
            else:
                if status == 200:
                    outcome = await self._handle_body(call, raw)
                else:
                    outcome = await self._handle_status(call, status, retry_after)
            if isinstance(outcome, GraphQLResult):
                return outcome
            await asyncio.sleep(outcome)

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

    async def paginate(
        self,
        creds: ShopCredentials,
        query: str,
        variables: Mapping[str, Any],
        *,
        connection_path: Sequence[str],
    ) -> AsyncIterator[JsonObject]:
        """Yield every node of the connection at `connection_path`, page by page.

        The query must take `$after: String` and select `nodes` and
        `pageInfo { hasNextPage endCursor }` on that connection.
        """
        after: str | None = None
        while True:
            data = await self.query(creds, query, {**variables, "after": after})
            connection = _dig(data, connection_path)
            if not isinstance(connection, dict):
                raise ShopifyGraphQLError(
                    f"no connection at {'.'.join(connection_path)}",
                    shop=creds.shop,
                    operation=operation_name(query),
                    errors=[],
                )
            for node in connection.get("nodes") or []:
                yield node
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage"):
                return
            after = page_info.get("endCursor")
            if not after:
                raise ShopifyGraphQLError(
                    "hasNextPage without endCursor",
                    shop=creds.shop,
                    operation=operation_name(query),
                    errors=[],
                )

    # --- shop, products, orders, customers -------------------------------------------

    async def shop_info(self, creds: ShopCredentials) -> JsonObject:
        """The shop's name, domain, currency, plan..."""
        data = await self.query(creds, ops.SHOP_INFO)
        shop: JsonObject = data["shop"]
        return shop

    async def _complete_nested(
        self,
        creds: ShopCredentials,
        node: JsonObject,
        *,
        field_name: str,
        query: str,
        root: str,
        page_size: int,
    ) -> None:
        # Replaces node[field_name] (a connection) by the full list of its nodes.
        connection = node.get(field_name) or {}
        items: list[JsonObject] = list(connection.get("nodes") or [])
        page_info = connection.get("pageInfo") or {}
        if page_info.get("hasNextPage"):
            after = page_info.get("endCursor")
            async for item in self._paginate_from(
                creds,
                query,
                {"id": node["id"], "first": page_size},
                after,
                connection_path=(root, field_name),
            ):
                items.append(item)
        node[field_name] = items

    async def _paginate_from(
        self,
        creds: ShopCredentials,
        query: str,
        variables: Mapping[str, Any],
        after: str | None,
        *,
        connection_path: Sequence[str],
    ) -> AsyncIterator[JsonObject]:
        while True:
            data = await self.query(creds, query, {**variables, "after": after})
            connection = _dig(data, connection_path) or {}
            for item in connection.get("nodes") or []:
                yield item
            page_info = connection.get("pageInfo") or {}
            after = page_info.get("endCursor")
            if not page_info.get("hasNextPage") or not after:
                return

    async def iter_products(
        self,
        creds: ShopCredentials,
        *,
        updated_since: datetime | None = None,
        page_size: int = PRODUCTS_PAGE_SIZE,
        variants_page_size: int = VARIANTS_PAGE_SIZE,
    ) -> AsyncIterator[JsonObject]:
        """Products by `updatedAt`, each with `variants` as a complete list."""
        variables = {
            "first": min(page_size, MAX_PAGE_SIZE),
            "variantsFirst": variants_page_size,
            "query": updated_since_filter(updated_since) if updated_since else None,
        }
        async for product in self.paginate(
            creds, ops.PRODUCTS_PAGE, variables, connection_path=("products",)
        ):
            await self._complete_nested(
                creds,
                product,
                field_name="variants",
                query=ops.PRODUCT_VARIANTS_PAGE,
                root="product",
                page_size=MAX_PAGE_SIZE,
            )
            yield product

    async def iter_orders(
        self,
        creds: ShopCredentials,
        *,
        updated_since: datetime | None = None,
        page_size: int = ORDERS_PAGE_SIZE,
        line_items_page_size: int = LINE_ITEMS_PAGE_SIZE,
    ) -> AsyncIterator[JsonObject]:
        """Orders by `updatedAt`, each with complete `lineItems` and its `transactions`."""
        variables = {
            "first": min(page_size, MAX_PAGE_SIZE),
            "lineItemsFirst": line_items_page_size,
            "query": updated_since_filter(updated_since) if updated_since else None,
        }
        async for order in self.paginate(
            creds, ops.ORDERS_PAGE, variables, connection_path=("orders",)
        ):
            await self._complete_nested(
                creds,
                order,
                field_name="lineItems",
                query=ops.ORDER_LINE_ITEMS_PAGE,
                root="order",
                page_size=MAX_PAGE_SIZE // 2,
            )
            yield order

    async def iter_customers(
        self,
        creds: ShopCredentials,
        *,
        updated_since: datetime | None = None,
        page_size: int = CUSTOMERS_PAGE_SIZE,
    ) -> AsyncIterator[JsonObject]:
        """Customers by `updatedAt`."""
        variables = {
            "first": min(page_size, MAX_PAGE_SIZE),
            "query": updated_since_filter(updated_since) if updated_since else None,
        }
        async for customer in self.paginate(
            creds, ops.CUSTOMERS_PAGE, variables, connection_path=("customers",)
        ):
            yield customer

    # --- webhook subscriptions --------------------------------------------------------

    async def list_webhook_subscriptions(self, creds: ShopCredentials) -> list[JsonObject]:
        """Every webhook subscription of this app on the shop."""
        return [
            node
            async for node in self.paginate(
                creds,
                ops.WEBHOOK_SUBSCRIPTIONS_PAGE,
                {"first": 100},
                connection_path=("webhookSubscriptions",),
            )
        ]

    async def create_webhook_subscription(
        self, creds: ShopCredentials, *, topic: str, uri: str
    ) -> JsonObject:
        """Subscribe `uri` to `topic` (enum name, e.g. `ORDERS_UPDATED`)."""
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_CREATE,
            {"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}},
            payload_field="webhookSubscriptionCreate",
        )
        subscription: JsonObject = payload["webhookSubscription"]
        return subscription

    async def update_webhook_subscription(
        self, creds: ShopCredentials, subscription_id: str, *, uri: str
    ) -> JsonObject:
        """Point an existing subscription at `uri`."""
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_UPDATE,
            {"id": subscription_id, "webhookSubscription": {"uri": uri}},
            payload_field="webhookSubscriptionUpdate",
        )
        subscription: JsonObject = payload["webhookSubscription"]
        return subscription

    async def delete_webhook_subscription(
        self, creds: ShopCredentials, subscription_id: str
    ) -> str:
        """Delete a subscription; return its id."""
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_DELETE,
            {"id": subscription_id},
            payload_field="webhookSubscriptionDelete",
        )
        return str(payload["deletedWebhookSubscriptionId"])

    # --- web pixel --------------------------------------------------------------------

    @staticmethod
    def _decode_pixel(pixel: JsonObject) -> JsonObject:
        # Shopify returns `settings` as a JSON-encoded string.
        settings = pixel.get("settings")
        if isinstance(settings, str):
            pixel = {**pixel, "settings": orjson.loads(settings)}
        return pixel

    async def get_web_pixel(self, creds: ShopCredentials) -> JsonObject | None:
        """This app's web pixel on the shop, settings decoded; None when there is none."""
        try:
            data = await self.query(creds, ops.WEB_PIXEL)
        except ShopifyGraphQLError as e:
            # Shopify answers a missing pixel with a NOT_FOUND-style GraphQL error.
            if any("not found" in str(err).lower() for err in e.errors):
                return None
            raise
        pixel = data.get("webPixel")
        return self._decode_pixel(pixel) if isinstance(pixel, dict) else None

    async def create_web_pixel(
        self, creds: ShopCredentials, settings: Mapping[str, Any]
    ) -> JsonObject:
        """Activate the app's web pixel with `settings`."""
        payload = await self.mutate(
            creds,
            ops.WEB_PIXEL_CREATE,
            {"webPixel": {"settings": orjson.dumps(dict(settings)).decode()}},
            payload_field="webPixelCreate",
        )
        return self._decode_pixel(payload["webPixel"])

    async def update_web_pixel(
        self, creds: ShopCredentials, pixel_id: str, settings: Mapping[str, Any]
    ) -> JsonObject:
        """Replace the web pixel's settings."""
        payload = await self.mutate(
            creds,
            ops.WEB_PIXEL_UPDATE,
            {"id": pixel_id, "webPixel": {"settings": orjson.dumps(dict(settings)).decode()}},
            payload_field="webPixelUpdate",
        )
        return self._decode_pixel(payload["webPixel"])

    async def delete_web_pixel(self, creds: ShopCredentials, pixel_id: str) -> str:
        """Deactivate the web pixel; return its id."""
        payload = await self.mutate(
            creds, ops.WEB_PIXEL_DELETE, {"id": pixel_id}, payload_field="webPixelDelete"
        )
        return str(payload["deletedWebPixelId"])

    # --- bulk operations --------------------------------------------------------------

    async def run_bulk_query(
        self, creds: ShopCredentials, bulk_query: str, *, group_objects: bool = True
    ) -> JsonObject:
        """Start a bulk query; return the new BulkOperation (id, status)."""
        payload = await self.mutate(
            creds,
            ops.BULK_OPERATION_RUN_QUERY,
            {"query": bulk_query, "groupObjects": group_objects},
            payload_field="bulkOperationRunQuery",
        )
        operation: JsonObject = payload["bulkOperation"]
        return operation

    async def get_bulk_operation(self, creds: ShopCredentials, operation_id: str) -> JsonObject:
        """The current state of one bulk operation."""
        data = await self.query(creds, ops.BULK_OPERATION, {"id": operation_id})
        operation = data.get("bulkOperation")
        if not isinstance(operation, dict):
            raise BulkOperationError(
                f"bulk operation {operation_id} not found",
                shop=creds.shop,
                operation="BulkOperation",
            )
        return operation

    async def cancel_bulk_operation(self, creds: ShopCredentials, operation_id: str) -> JsonObject:
        """Ask Shopify to cancel a running bulk operation."""
        payload = await self.mutate(
            creds,
            ops.BULK_OPERATION_CANCEL,
            {"id": operation_id},
            payload_field="bulkOperationCancel",
        )
        operation: JsonObject = payload["bulkOperation"]
        return operation

    async def wait_for_bulk_operation(
        self,
        creds: ShopCredentials,
        operation_id: str,
        *,
        timeout_s: float,
        poll_interval_s: float | None = None,
        on_poll: Callable[[], Awaitable[object]] | None = None,
    ) -> JsonObject:
        """Poll until COMPLETED and return the operation; raise on failure or timeout.

        `on_poll` runs after every poll that found the job still going (e.g. a heartbeat).
        """
        interval_s = self._bulk_poll_interval_s if poll_interval_s is None else poll_interval_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            operation = await self.get_bulk_operation(creds, operation_id)
            status = operation.get("status")
            if status == "COMPLETED":
                return operation
            if status in _BULK_FAILED_STATES:
                raise BulkOperationError(
                    f"bulk operation {operation_id} ended {status}"
                    f" (errorCode={operation.get('errorCode')})",
                    shop=creds.shop,
                    operation="BulkOperation",
                    status=str(status),
                    error_code=operation.get("errorCode"),
                )
            if loop.time() + interval_s > deadline:
                raise BulkOperationError(
                    f"bulk operation {operation_id} still {status} after {timeout_s}s",
                    shop=creds.shop,
                    operation="BulkOperation",
                    status=str(status),
                )
            if on_poll is not None:
                await on_poll()
            await asyncio.sleep(interval_s)

    async def stream_bulk_lines(self, shop: str, url: str) -> AsyncIterator[JsonObject]:
        """Yield each JSONL object of a bulk result, reading it chunk by chunk."""
        # Download from the pre-signed URL without the Admin API token.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout_s, sock_read=self._timeout_s
        )
        try:
            async with self._session.get(url, timeout=timeout, ssl=True) as resp:
                if resp.status != 200:
                    raise BulkOperationError(
                        f"bulk result download answered HTTP {resp.status}",
                        shop=shop,
                        operation="BulkOperationResult",
                    )
                pending = b""
                async for chunk in resp.content.iter_chunked(self._bulk_read_chunk_bytes):
                    pending += chunk
                    lines = pending.split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        if line.strip():
                            yield orjson.loads(line)
                if pending.strip():
                    yield orjson.loads(pending)
        except aiohttp.ClientError as e:
            raise BulkOperationError(
                f"bulk result download failed: {type(e).__name__}",
                shop=shop,
                operation="BulkOperationResult",
            ) from e

    async def iter_bulk_records(self, shop: str, url: str) -> AsyncIterator[BulkRecord]:
        """Yield each top-level object with its descendants joined by `__parentId`.

        Needs a result produced with `groupObjects: true` (children right after their
        parent); holds one top-level object and its children at a time.
        """
        current: BulkRecord | None = None
        family: set[str] = set()
        async for obj in self.stream_bulk_lines(shop, url):
            parent_id = obj.get("__parentId")
            if parent_id is None:
                if current is not None:
                    yield current
                current = BulkRecord(node=obj, children=[])
                family = {str(obj.get("id"))}
                continue
            if current is None or parent_id not in family:
                raise BulkOperationError(
                    f"bulk result line with __parentId {parent_id} is not grouped under its"
                    " parent (run the query with groupObjects: true)",
                    shop=shop,
                    operation="BulkOperationResult",
                )
            current.children.append(obj)
            if "id" in obj:
                family.add(str(obj["id"]))
        if current is not None:
            yield current


__all__ = [
    "BulkRecord",
    "GraphQLResult",
    "QueryCost",
    "ShopCredentials",
    "ShopifyClient",
    "ShopifyError",
    "parse_retry_after",
    "updated_since_filter",
]
