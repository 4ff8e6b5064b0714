"""Typed errors of the Shopify Admin API client.

Every message names the shop and the operation; none ever contains a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ShopifyError(Exception):
    """Base of every error raised by the Admin API client."""

    def __init__(self, message: str, *, shop: str, operation: str | None) -> None:
        self.shop = shop
        self.operation = operation
        super().__init__(f"{message} (shop={shop}, operation={operation or '-'})")


class ShopifyAuthError(ShopifyError):
    """401/403: the token is invalid, revoked or lacks a scope; the shop needs re-auth."""

    def __init__(self, message: str, *, shop: str, operation: str | None, status: int) -> None:
        self.status = status
        super().__init__(message, shop=shop, operation=operation)


class ShopifyThrottledError(ShopifyError):
    """Still throttled (THROTTLED or 429) after the allowed number of waits."""


class ShopifyHTTPError(ShopifyError):
    """An HTTP status the client does not retry (e.g. 400, 402 frozen shop, 404, 423)."""

    def __init__(self, message: str, *, shop: str, operation: str | None, status: int) -> None:
        self.status = status
        super().__init__(message, shop=shop, operation=operation)


class ShopifyServerError(ShopifyHTTPError):
    """5xx answers that persisted through every retry."""


class ShopifyConnectionError(ShopifyError):
    """Connection failures or timeouts that persisted through every retry."""


class ShopifyGraphQLError(ShopifyError):
    """The response carried top-level GraphQL `errors` (invalid query, access denied, ...)."""

    def __init__(
        self, message: str, *, shop: str, operation: str | None, errors: Sequence[Any]
    ) -> None:
        self.errors = list(errors)
        super().__init__(message, shop=shop, operation=operation)


class ShopifyUserError(ShopifyError):
    """A mutation answered with non-empty `userErrors`."""

    def __init__(
        self, message: str, *, shop: str, operation: str | None, user_errors: Sequence[Any]
    ) -> None:
        self.user_errors = list(user_errors)
        super().__init__(message, shop=shop, operation=operation)


class BulkOperationError(ShopifyError):
    """A bulk operation ended FAILED, CANCELED or EXPIRED, or its result was unreadable."""

    def __init__(
        self,
        message: str,
        *,
        shop: str,
        operation: str | None,
        status: str | None = None,
        error_code: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        super().__init__(message, shop=shop, operation=operation)
