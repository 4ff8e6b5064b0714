"""Every operation the client can send is valid against Shopify's real Admin schema."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule

from server.shopify import ShopCredentials, ShopifyClient, ShopifyGraphQLError, operations
from server.shopify.cost import estimate_query_cost
from server.shopify.paging import LISTINGS
from tests.fake_shopify import FakeShopify
from tests.fake_shopify.engine import CostCalculator
from tests.fake_shopify.schema import admin_schema


def discovered_operations() -> dict[str, str]:
    """Every public str constant of server.shopify.operations."""
    return {
        name: value
        for name, value in vars(operations).items()
        if not name.startswith("_") and isinstance(value, str) and name.isupper()
    }


def test_discovery_finds_the_operations() -> None:
    found = discovered_operations()
    assert {"PRODUCTS_PAGE", "ORDERS_PAGE", "WEB_PIXEL_CREATE", "BULK_SYNC_PRODUCTS"} <= set(found)
    assert len(found) >= 20


@pytest.mark.parametrize("name", sorted(discovered_operations()))
def test_operation_is_valid_and_not_deprecated(name: str) -> None:
    document = parse(discovered_operations()[name])
    errors = validate(admin_schema(), document, [*specified_rules, NoDeprecatedCustomRule])
    assert errors == [], [e.message for e in errors]


# The page sizes production sends: config.toml's [sync] sizes, the nested first pages of
# server/shopify/paging.LISTINGS and the page size of the rest of a nested connection.
def _nested_first(resource: str) -> int:
    nested = LISTINGS[resource].nested
    assert nested is not None
    return nested.first


_SYNC = tomllib.loads((Path(__file__).parents[2] / "config.toml").read_text())["sync"]
PAGED: list[tuple[str, dict[str, Any]]] = [
    (
        "PRODUCTS_PAGE",
        {"first": _SYNC["products_page_size"], **LISTINGS["products"].nested_first},
    ),
    ("PRODUCT_VARIANTS_PAGE", {"first": _nested_first("products"), "id": "x"}),
    ("ORDERS_PAGE", {"first": _SYNC["orders_page_size"], **LISTINGS["orders"].nested_first}),
    ("ORDER_LINE_ITEMS_PAGE", {"first": _nested_first("orders"), "id": "x"}),
    ("CUSTOMERS_PAGE", {"first": _SYNC["customers_page_size"]}),
    ("WEBHOOK_SUBSCRIPTIONS_PAGE", {"first": 100}),
]


@pytest.mark.parametrize(("name", "variables"), PAGED, ids=[p[0] for p in PAGED])
def test_default_pages_fit_the_cost_cap_and_estimate_covers_it(
    name: str, variables: dict[str, Any]
) -> None:
    query = discovered_operations()[name]
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    server_cost = CostCalculator(admin_schema(), document, variables).operation_cost(operation)
    assert server_cost <= 1000
    # The client's reservation must never be below what Shopify will charge up front.
    assert estimate_query_cost(query, variables) >= server_cost


async def test_fake_rejects_an_invalid_operation(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    with pytest.raises(ShopifyGraphQLError) as caught:
        await shopify_client.query(creds, "query Bad { shop { noSuchField } }")
    assert "noSuchField" in str(caught.value.errors)
    assert fake_shopify.invalid_operations  # the fixture would fail the test for this
    fake_shopify.invalid_operations.clear()


def test_invalid_document_is_a_syntax_error() -> None:
    with pytest.raises(GraphQLError):
        parse("query {")
