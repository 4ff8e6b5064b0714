"""The Shopify GraphQL Admin API client: one instance per process.

It is assembled from cohesive parts: the transport (server/shopify/transport.py: one call
with throttling, retries and typed errors), the app's objects on a shop (app_objects.py:
shop info, webhook subscriptions, web pixel), bulk operations (bulk.py) and billing
(billing.py). Paged reads go
through server/shopify/paging.py; every operation's text is in operations.py.
"""

from __future__ import annotations

from server.shopify.app_objects import AppObjects
from server.shopify.billing import BillingCalls
from server.shopify.bulk import BulkOperations, BulkRecord
from server.shopify.paging import updated_since_filter
from server.shopify.transport import (
    GraphQLResult,
    JsonObject,
    QueryCost,
    ShopCredentials,
    parse_retry_after,
)


class ShopifyClient(AppObjects, BulkOperations, BillingCalls):
    """GraphQL Admin API client with shared cost-based throttling and retries.

    Built with the transport's settings (`GraphQLTransport.__init__`).
    """


__all__ = [
    "BulkRecord",
    "GraphQLResult",
    "JsonObject",
    "QueryCost",
    "ShopCredentials",
    "ShopifyClient",
    "parse_retry_after",
    "updated_since_filter",
]
