"""The GraphQL Admin endpoint: validation against the real schema, query cost and the
leaky bucket, faults, and the root fields every query and mutation resolves from."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web
from graphql import GraphQLError, OperationDefinitionNode, execute_sync, parse, validate
from graphql.validation import NoDeprecatedCustomRule

from tests.fake_shopify.billing import Billing
from tests.fake_shopify.bulk import BulkOperations
from tests.fake_shopify.data import Node
from tests.fake_shopify.engine import (
    CostCalculator,
    ExecContext,
    field_resolver,
    filter_nodes,
    type_resolver,
)
from tests.fake_shopify.state import Bucket, CallRecord, FakeShop, _json
from tests.fake_shopify.subscriptions import WebhookSubscriptions
from tests.fake_shopify.web_pixels import WebPixels

INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
MAX_QUERY_COST = 1000
DEPRECATED_HEADER = "X-Shopify-API-Deprecated-Reason"


def _count(items: list[Node], args: dict[str, Any]) -> Node:
    """Shopify's Count: capped at `limit` (default 10000; null for none), precision says so."""
    limit = args.get("limit", 10_000)
    matched = len(filter_nodes(items, args.get("query")))
    if limit is not None and matched > limit:
        return {"__typename": "Count", "count": limit, "precision": "AT_LEAST"}
    return {"__typename": "Count", "count": matched, "precision": "EXACT"}


THROTTLED: Node = {
    "message": "Throttled",
    "extensions": {
        "code": "THROTTLED",
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    },
}


def _refused(error: Node, requested: int, bucket: Bucket) -> dict[str, Any]:
    """A query refused before it ran: the error, the cost requested, nothing charged."""
    return {
        "errors": [error],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": bucket.status(),
            }
        },
    }


class GraphQLEndpoint(WebhookSubscriptions, WebPixels, BulkOperations, Billing):
    """`/{shop}/admin/api/{version}/graphql.json`."""

    def _record(self, record: CallRecord) -> CallRecord:
        self.calls.append(record)
        return record

    async def _graphql(self, request: web.Request) -> web.Response:
        shop_domain = request.match_info["shop"]
        version = request.match_info["version"]
        shop = self.shops.get(shop_domain)
        if shop is None:
            return _json({"errors": "Not Found"}, 404)
        info = self.tokens.get(request.headers.get("X-Shopify-Access-Token", ""))
        if info is None or info.shop != shop_domain or not info.valid():
            self._record(CallRecord(shop_domain, time.monotonic(), None, version, 401))
            return _json(INVALID_TOKEN_BODY, 401)
        if shop.faults:
            fault = shop.faults.popleft()
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                self._record(CallRecord(shop_domain, time.monotonic(), None, version, fault.status))
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                body = fault.body if fault.body is not None else {"errors": "Internal error"}
                return _json(body, fault.status, headers)
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        variables = payload.get("variables") or {}
        answer, record = self._run(
            shop, query, variables, version, origin=str(request.url.origin())
        )
        record.user_id = info.user_id
        self._record(record)
        gate = shop.answer_gates.get(record.operation or "")
        if gate is not None:
            await gate.wait()
        await self.send_billing_webhooks()
        # Shopify names the deprecated fields, arguments and enum values a request used.
        headers = {DEPRECATED_HEADER: record.deprecated} if record.deprecated else None
        return _json(answer, 200, headers)

    def _run(
        self, shop: FakeShop, query: str, variables: dict[str, Any], version: str, *, origin: str
    ) -> tuple[dict[str, Any], CallRecord]:
        record = CallRecord(shop.domain, time.monotonic(), None, version, 200)
        try:
            document = parse(query)
        except GraphQLError as e:
            self.invalid_operations.append((query, [e.message]))
            return {"errors": [e.formatted]}, record
        errors = validate(self.schema, document)
        operation = next(
            (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
        )
        record.operation = operation.name.value if operation and operation.name else None
        if errors or operation is None:
            self.invalid_operations.append((query, [e.message for e in errors]))
            return {"errors": [e.formatted for e in errors]}, record
        deprecated = validate(self.schema, document, [NoDeprecatedCustomRule])
        if deprecated:
            record.deprecated = " ".join(e.message for e in deprecated)
        calculator = CostCalculator(self.schema, document, variables)
        requested = calculator.operation_cost(operation)
        record.requested = requested
        bucket = shop.bucket
        if requested > MAX_QUERY_COST:
            error = {
                "message": f"Query cost is {requested}, which exceeds the single query max "
                f"cost limit ({MAX_QUERY_COST}).",
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": MAX_QUERY_COST,
                },
            }
            return _refused(error, requested, bucket), record
        if bucket.refill() < requested:
            record.throttled = True
            record.available_after = bucket.available
            return _refused(THROTTLED, requested, bucket), record
        bucket.available -= requested
        result = execute_sync(
            self.schema,
            document,
            root_value=self._root(shop, origin),
            context_value=ExecContext(),
            variable_values=variables,
            field_resolver=field_resolver,
            type_resolver=type_resolver,
        )
        actual = min(requested, calculator.operation_cost(operation, result.data or {}))
        bucket.available = min(bucket.maximum, bucket.available + requested - actual)
        record.actual = actual
        record.available_after = bucket.available
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["data"] = result.data
        answer["extensions"] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status(),
            }
        }
        return answer, record

    def _root(self, shop: FakeShop, origin: str) -> dict[str, Any]:
        data = shop.data

        def by_id(items: list[Node]) -> Any:
            return lambda info, id: next((n for n in items if n["id"] == id), None)

        return {
            "shop": data.shop,
            "products": data.products,
            "orders": data.orders,
            "customers": data.customers,
            "productsCount": lambda info, **a: _count(data.products, a),
            "ordersCount": lambda info, **a: _count(data.orders, a),
            "customersCount": lambda info, **a: _count(data.customers, a),
            "product": by_id(data.products),
            "order": by_id(data.orders),
            "customer": by_id(data.customers),
            "webhookSubscriptions": list(shop.webhooks.values()),
            "webhookSubscription": lambda info, id: shop.webhooks.get(id),
            "webPixel": lambda info, id=None: (
                shop.pixel if id is None or (shop.pixel and shop.pixel["id"] == id) else None
            ),
            "bulkOperation": lambda info, id: shop.bulk_operations.get(id),
            "currentBulkOperation": lambda info, type="QUERY": next(
                reversed(shop.bulk_operations.values()), None
            ),
            "bulkOperations": list(shop.bulk_operations.values()),
            "webhookSubscriptionCreate": lambda info, **a: self._webhook_create(shop, **a),
            "webhookSubscriptionUpdate": lambda info, **a: self._webhook_update(shop, **a),
            "webhookSubscriptionDelete": lambda info, **a: self._webhook_delete(shop, **a),
            "webPixelCreate": lambda info, **a: self._pixel_create(shop, **a),
            "webPixelUpdate": lambda info, **a: self._pixel_update(shop, **a),
            "webPixelDelete": lambda info, **a: self._pixel_delete(shop, **a),
            "bulkOperationRunQuery": lambda info, **a: self._bulk_run(shop, origin, **a),
            "bulkOperationCancel": lambda info, **a: self._bulk_cancel(shop, **a),
            **self.billing_root(shop, origin),
        }
