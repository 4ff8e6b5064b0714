"""UI extension handlers: the registry the app adds `/ext/*` routes to, and `GET /ext/ping`.

A handler gets an `ExtensionRequest` whose shop and customer come from the verified
session token, and answers JSON (any orjson-serialisable value).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.registry import HandlerRegistry

CUSTOMER_GID_PREFIX = "gid://shopify/Customer/"


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    """A request from a UI extension whose session token verified."""

    shop: str
    customer: str | None  # the customer's gid (customer-account, logged-in checkout), or None
    path: str  # below /ext/, e.g. "ping"
    method: str
    params: tuple[tuple[str, str], ...]
    body: bytes
    claims: dict[str, Any]  # every verified claim (jti, exp, sid, ...)


def customer_of(sub: str | None) -> str | None:
    """The customer's gid from a token's `sub`; None for no customer (or a staff user id)."""
    return sub if sub and sub.startswith(CUSTOMER_GID_PREFIX) else None


ExtensionHandler = Callable[[ExtensionRequest], Awaitable[Any]]

# Keyed by (method, path below /ext/).
EXT_ROUTES: HandlerRegistry[tuple[str, str], ExtensionHandler] = HandlerRegistry("ext route")


@EXT_ROUTES.register(("GET", "ping"))
async def ping(request: ExtensionRequest) -> dict[str, str | None]:
    """Who the session token says is asking: the shop and the customer's gid (or null)."""
    return {"shop": request.shop, "customer": request.customer}
