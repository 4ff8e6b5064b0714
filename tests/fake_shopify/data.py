"""Deterministic seeded data for fake shops, shaped like Admin API objects."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Node = dict[str, Any]

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Linus", "Margaret"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton"]
VENDORS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]
GATEWAYS = ["shopify_payments", "paypal", "manual"]


def iso(moment: datetime) -> str:
    """Shopify's DateTime format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, number: int) -> str:
    """A Shopify global id."""
    return f"gid://shopify/{kind}/{number}"


def money(amount: float, currency: str = "USD") -> Node:
    """MoneyV2."""
    return {"__typename": "MoneyV2", "amount": f"{amount:.2f}", "currencyCode": currency}


def money_bag(amount: float, currency: str = "USD") -> Node:
    """MoneyBag in shop and presentment currency."""
    return {
        "__typename": "MoneyBag",
        "shopMoney": money(amount, currency),
        "presentmentMoney": money(amount, currency),
    }


@dataclass
class ShopData:
    """The seeded objects of one shop."""

    shop: Node
    products: list[Node]
    orders: list[Node]
    customers: list[Node]


def generate_shop_data(
    shop_domain: str,
    *,
    seed: int = 1,
    products: int = 20,
    variants_per_product: int = 3,
    customers: int = 20,
    orders: int = 20,
    line_items_per_order: int = 2,
) -> ShopData:
    """Same arguments, same data: ids, names, prices and timestamps are all seeded."""
    rng = random.Random(f"{shop_domain}:{seed}")
    counter = iter(range(1, 10**9))

    def stamp(index: int) -> tuple[str, str]:
        created = BASE_TIME + timedelta(minutes=index)
        updated = created + timedelta(seconds=rng.randint(0, 86_400 * 30))
        return iso(created), iso(updated)

    shop = {
        "__typename": "Shop",
        "id": gid("Shop", rng.randint(10**9, 10**10)),
        "name": shop_domain.split(".", maxsplit=1)[0].replace("-", " ").title(),
        "myshopifyDomain": shop_domain,
        "email": f"owner@{shop_domain}",
        "contactEmail": f"support@{shop_domain}",
        "currencyCode": "USD",
        "ianaTimezone": "America/New_York",
        "url": f"https://{shop_domain}",
        "plan": {
            "__typename": "ShopPlan",
            "displayName": "Basic",
            "publicDisplayName": "Basic",
            "partnerDevelopment": True,
            "shopifyPlus": False,
        },
    }

    product_nodes: list[Node] = []
    all_variants: list[Node] = []
    for p in range(products):
        created, updated = stamp(p)
        number = next(counter)
        product: Node = {
            "__typename": "Product",
            "id": gid("Product", number),
            "legacyResourceId": str(number),
            "title": f"{rng.choice(VENDORS)} product {p + 1}",
            "handle": f"product-{p + 1}",
            "status": "ACTIVE",
            "vendor": rng.choice(VENDORS),
            "productType": rng.choice(["Shirt", "Mug", "Poster"]),
            "tags": sorted(rng.sample(["new", "sale", "eco", "gift"], 2)),
            "createdAt": created,
            "updatedAt": updated,
            "variants": [],
        }
        for v in range(variants_per_product):
            price = rng.randint(500, 20_000) / 100
            variant: Node = {
                "__typename": "ProductVariant",
                "id": gid("ProductVariant", next(counter)),
                "title": f"Variant {v + 1}",
                "sku": f"SKU-{p + 1}-{v + 1}",
                "barcode": None,
                "price": f"{price:.2f}",
                "compareAtPrice": None,
                "inventoryQuantity": rng.randint(0, 100),
                "createdAt": created,
                "updatedAt": updated,
                "product": product,
            }
            product["variants"].append(variant)
            all_variants.append(variant)
        product_nodes.append(product)

    customer_nodes: list[Node] = []
    for c in range(customers):
        created, updated = stamp(c)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first.lower()}.{last.lower()}.{c + 1}@example.com"
        customer_nodes.append(
            {
                "__typename": "Customer",
                "id": gid("Customer", next(counter)),
                "firstName": first,
                "lastName": last,
                "email": email,
                "defaultEmailAddress": {
                    "__typename": "CustomerEmailAddress",
                    "emailAddress": email,
                },
                "phone": None,
                "state": "ENABLED",
                "tags": [],
                "numberOfOrders": "0",
                "amountSpent": money(0),
                "verifiedEmail": True,
                "createdAt": created,
                "updatedAt": updated,
            }
        )

    order_nodes: list[Node] = []
    for o in range(orders):
        created, updated = stamp(o)
        customer = rng.choice(customer_nodes) if customer_nodes else None
        line_items: list[Node] = []
        total = 0.0
        for _ in range(line_items_per_order if all_variants else 0):
            variant = rng.choice(all_variants)
            quantity = rng.randint(1, 3)
            total += float(variant["price"]) * quantity
            line_items.append(
                {
                    "__typename": "LineItem",
                    "id": gid("LineItem", next(counter)),
                    "name": f"{variant['product']['title']} - {variant['title']}",
                    "title": variant["product"]["title"],
                    "quantity": quantity,
                    "sku": variant["sku"],
                    "variant": variant,
                    "product": variant["product"],
                    "originalUnitPriceSet": money_bag(float(variant["price"])),
                }
            )
        sale: Node = {
            "__typename": "OrderTransaction",
            "id": gid("OrderTransaction", next(counter)),
            "kind": "SALE",
            "status": "SUCCESS",
            "gateway": rng.choice(GATEWAYS),
            "test": False,
            "createdAt": created,
            "processedAt": created,
            "errorCode": None,
            "amountSet": money_bag(total),
            "parentTransaction": None,
        }
        transactions = [sale]
        if rng.random() < 0.2:
            transactions.append(
                {
                    **sale,
                    "id": gid("OrderTransaction", next(counter)),
                    "kind": "REFUND",
                    "amountSet": money_bag(total / 2),
                    "parentTransaction": sale,
                }
            )
        if customer is not None:
            customer["numberOfOrders"] = str(int(customer["numberOfOrders"]) + 1)
            spent = float(customer["amountSpent"]["amount"]) + total
            customer["amountSpent"] = money(spent)
        order_nodes.append(
            {
                "__typename": "Order",
                "id": gid("Order", next(counter)),
                "name": f"#{1001 + o}",
                "email": customer["email"] if customer else None,
                "test": False,
                "createdAt": created,
                "updatedAt": updated,
                "processedAt": created,
                "cancelledAt": None,
                "currencyCode": "USD",
                "displayFinancialStatus": "PARTIALLY_REFUNDED" if len(transactions) > 1 else "PAID",
                "displayFulfillmentStatus": "UNFULFILLED",
                "totalPriceSet": money_bag(total),
                "customer": customer,
                "lineItems": line_items,
                "transactions": transactions,
            }
        )
    return ShopData(shop=shop, products=product_nodes, orders=order_nodes, customers=customer_nodes)
