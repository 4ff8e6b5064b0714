"""Paging through GraphQL connections: the one loop every paged read uses.

`pages` walks a connection page by page, fetching the next page while the caller works on
the current one (so the shop's rate-limit bucket is not left idle while, say, PostgreSQL
writes a page). `listing_pages` reads the synced resources (products, orders, customers)
with their nested connections (variants, line items) completed; the sync engine
checkpoints after each page it yields.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from server.aio import cancel_and_wait
from server.shopify import operations as ops
from server.shopify.cost import operation_name
from server.shopify.errors import ShopifyGraphQLError
from server.shopify.transport import GraphQLTransport, JsonObject, ShopCredentials

# Shopify's largest page.
MAX_PAGE_SIZE: Final = 250


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a connection: its nodes and where the next page starts."""

    nodes: list[JsonObject]
    end_cursor: str | None
    has_next: bool


def _dig(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


async def pages(
    client: GraphQLTransport,
    creds: ShopCredentials,
    query: str,
    variables: Mapping[str, Any],
    *,
    connection_path: Sequence[str],
    after: str | None = None,
) -> AsyncGenerator[Page, None]:
    """Every page of the connection at `connection_path`, starting after `after`.

    The query must take `$after: String` and select `nodes` and
    `pageInfo { hasNextPage endCursor }` on that connection. The next page is requested
    before a page is yielded; closing the iterator (`contextlib.aclosing`) cancels it.
    """

    async def fetch(cursor: str | None) -> Page:
        data = await client.query(creds, query, {**variables, "after": cursor})
        connection = _dig(data, connection_path)
        if not isinstance(connection, dict):
            raise ShopifyGraphQLError(
                f"no connection at {'.'.join(connection_path)}",
                shop=creds.shop,
                operation=operation_name(query),
                errors=[],
            )
        page_info = connection.get("pageInfo") or {}
        page = Page(
            nodes=list(connection.get("nodes") or []),
            end_cursor=page_info.get("endCursor"),
            has_next=bool(page_info.get("hasNextPage")),
        )
        if page.has_next and not page.end_cursor:
            raise ShopifyGraphQLError(
                "hasNextPage without endCursor",
                shop=creds.shop,
                operation=operation_name(query),
                errors=[],
            )
        return page

    pending: asyncio.Task[Page] | None = asyncio.ensure_future(fetch(after))
    try:
        while pending is not None:
            page = await pending
            pending = asyncio.ensure_future(fetch(page.end_cursor)) if page.has_next else None
            yield page
    finally:
        if pending is not None:
            await cancel_and_wait(pending)  # a page nobody will read


async def all_nodes(
    client: GraphQLTransport,
    creds: ShopCredentials,
    query: str,
    variables: Mapping[str, Any],
    *,
    connection_path: Sequence[str],
) -> list[JsonObject]:
    """Every node of a connection, in order."""
    nodes: list[JsonObject] = []
    async with contextlib.aclosing(
        pages(client, creds, query, variables, connection_path=connection_path)
    ) as walk:
        async for page in walk:
            nodes.extend(page.nodes)
    return nodes


@dataclass(frozen=True, slots=True)
class Nested:
    """A connection inside each node, read with its own query when it has more pages."""

    field: str  # e.g. "variants"
    query: str  # takes $id, $first, $after
    root: str  # the query's root field, e.g. "product"
    first: int  # its page size: the most that keeps the query under the 1000-point cap


@dataclass(frozen=True, slots=True)
class Listing:
    """How one synced resource is read: paged, counted, or in bulk."""

    query: str  # takes $first, $after, $query (search filter) and the nested page size
    root: str
    count_query: str  # takes $limit; answers {<root>Count: {count}}
    bulk_query: str  # the same selection as `query`, as a bulk document
    nested_first: dict[str, int] = field(default_factory=dict)
    nested: Nested | None = None  # bulk results join it by __parentId under the same field


# Nested page sizes keep a page's requested cost under Shopify's 1000-point cap together
# with the configured page sizes (config.toml [sync]).
LISTINGS: Final[dict[str, Listing]] = {
    "products": Listing(
        ops.PRODUCTS_PAGE,
        "products",
        ops.PRODUCTS_COUNT,
        ops.BULK_SYNC_PRODUCTS,
        {"variantsFirst": 25},
        Nested("variants", ops.PRODUCT_VARIANTS_PAGE, "product", first=MAX_PAGE_SIZE),
    ),
    "orders": Listing(
        ops.ORDERS_PAGE,
        "orders",
        ops.ORDERS_COUNT,
        ops.BULK_SYNC_ORDERS,
        {"lineItemsFirst": 10},
        # 250 line items (each with its variant and money objects) would cost 1003.
        Nested("lineItems", ops.ORDER_LINE_ITEMS_PAGE, "order", first=125),
    ),
    "customers": Listing(
        ops.CUSTOMERS_PAGE, "customers", ops.CUSTOMERS_COUNT, ops.BULK_SYNC_CUSTOMERS
    ),
}


def updated_since_filter(updated_since: datetime) -> str:
    """Shopify search syntax for `updated_at >= updated_since` (UTC, second precision)."""
    if updated_since.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware")
    stamp = updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>='{stamp}'"


async def complete_nested(
    client: GraphQLTransport, creds: ShopCredentials, node: JsonObject, nested: Nested
) -> None:
    """Replace `node[nested.field]` (a connection's first page) by the list of all its nodes."""
    connection = node.get(nested.field) or {}
    items: list[JsonObject] = list(connection.get("nodes") or [])
    page_info = connection.get("pageInfo") or {}
    if page_info.get("hasNextPage") and page_info.get("endCursor"):
        async with contextlib.aclosing(
            pages(
                client,
                creds,
                nested.query,
                {"id": node["id"], "first": nested.first},
                connection_path=(nested.root, nested.field),
                after=page_info["endCursor"],
            )
        ) as walk:
            async for page in walk:
                items.extend(page.nodes)
    node[nested.field] = items


async def listing_pages(
    client: GraphQLTransport,
    creds: ShopCredentials,
    resource: str,
    *,
    first: int,
    updated_since: datetime | None = None,
    after: str | None = None,
) -> AsyncGenerator[Page, None]:
    """Pages of a synced resource by `updatedAt`, each node's nested connection complete."""
    listing = LISTINGS[resource]
    variables = {
        "first": min(first, MAX_PAGE_SIZE),
        **listing.nested_first,
        "query": updated_since_filter(updated_since) if updated_since else None,
    }
    async with contextlib.aclosing(
        pages(client, creds, listing.query, variables, connection_path=(listing.root,), after=after)
    ) as walk:
        async for page in walk:
            if listing.nested is not None:
                for node in page.nodes:
                    await complete_nested(client, creds, node, listing.nested)
            yield page


__all__ = [
    "LISTINGS",
    "MAX_PAGE_SIZE",
    "Listing",
    "Nested",
    "Page",
    "all_nodes",
    "complete_nested",
    "listing_pages",
    "pages",
    "updated_since_filter",
]
