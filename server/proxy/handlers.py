"""App proxy handlers: the registry the app adds storefront routes to, and `GET /proxy/ping`.

A handler gets a `StorefrontRequest` whose shop and customer come from the verified
signature, and answers JSON (any orjson-serialisable value) or a `ProxyAnswer` (for
example `application/liquid`, which Shopify renders inside the shop's theme).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.registry import HandlerRegistry


@dataclass(frozen=True, slots=True)
class StorefrontRequest:
    """A verified app proxy request."""

    shop: str
    logged_in_customer_id: str  # "" when no customer is logged in, as Shopify sends it
    path_prefix: str  # the proxy's storefront path, e.g. /apps/my-app
    path: str  # below /proxy/, e.g. "ping"
    method: str
    params: tuple[tuple[str, str], ...]  # the storefront's own query parameters
    body: bytes

    @property
    def customer_id(self) -> str | None:
        """The logged-in customer's id, or None."""
        return self.logged_in_customer_id or None


@dataclass(frozen=True, slots=True)
class ProxyAnswer:
    """A non-JSON answer: body, content type, status."""

    body: str | bytes
    content_type: str = "application/liquid"
    status: int = 200


ProxyHandler = Callable[[StorefrontRequest], Awaitable[Any]]

# Keyed by (method, path below /proxy/).
PROXY_ROUTES: HandlerRegistry[tuple[str, str], ProxyHandler] = HandlerRegistry("proxy route")


@PROXY_ROUTES.register(("GET", "ping"))
async def ping(request: StorefrontRequest) -> dict[str, str]:
    """Who Shopify says is asking: the shop and the logged-in customer's id ("" for none)."""
    return {"shop": request.shop, "logged_in_customer_id": request.logged_in_customer_id}
