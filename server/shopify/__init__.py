"""Shopify GraphQL Admin API client, OAuth token client and their errors."""

from server.shopify.client import (
    BulkRecord,
    GraphQLResult,
    QueryCost,
    ShopCredentials,
    ShopifyClient,
    parse_retry_after,
    updated_since_filter,
)
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
from server.shopify.oauth import AccessTokenResponse, InvalidGrantError, OAuthClient, OAuthError

__all__ = [
    "AccessTokenResponse",
    "BulkOperationError",
    "BulkRecord",
    "GraphQLResult",
    "InvalidGrantError",
    "OAuthClient",
    "OAuthError",
    "QueryCost",
    "ShopCredentials",
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyConnectionError",
    "ShopifyError",
    "ShopifyGraphQLError",
    "ShopifyHTTPError",
    "ShopifyServerError",
    "ShopifyThrottledError",
    "ShopifyUserError",
    "parse_retry_after",
    "updated_since_filter",
]
