"""Shopify objects (GraphQL nodes from sync, REST-shaped webhook payloads) to table rows.

Both shapes map to the same row dicts, so the API serves one shape whatever the source.
Status-like enums are lower-cased (GraphQL `PAID` and REST `paid` agree).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from server.sync import Resource
from server.webhook_topics import PayloadError

Row = dict[str, Any]
JsonObject = dict[str, Any]
# PayloadError: a Shopify object without the fields a row needs (an id, an update time).


def shopify_id(value: Any) -> int:
    """Numeric id from a GID (`gid://shopify/Product/1`) or a REST integer id."""
    if isinstance(value, bool):
        raise PayloadError(f"not an id: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
        if tail.isdigit():
            return int(tail)
    raise PayloadError(f"not a Shopify id: {value!r}")


def optional_id(value: Any) -> int | None:
    """An id, or None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return optional_id(value.get("id"))
    return shopify_id(value)


def timestamp(value: Any) -> datetime | None:
    """An aware datetime from Shopify's ISO 8601 strings; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"not a timestamp: {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"not a timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise PayloadError(f"timestamp without a time zone: {value!r}")
    return moment


def required_timestamp(value: Any) -> datetime:
    """Like timestamp, but the value must be there (rows are ordered by it)."""
    moment = timestamp(value)
    if moment is None:
        raise PayloadError("updated_at is missing")
    return moment


def amount(value: Any) -> str | None:
    """A decimal amount as text (exact), from "12.30", 12.3 or a MoneyV2/MoneyBag."""
    if isinstance(value, dict):
        if "shopMoney" in value:
            return amount(value.get("shopMoney"))
        return amount(value.get("amount"))
    if value is None or value == "":
        return None
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        raise PayloadError(f"not an amount: {value!r}") from None


def _currency(value: Any) -> str:
    if isinstance(value, dict):
        if "shopMoney" in value:
            return _currency(value.get("shopMoney"))
        return str(value.get("currencyCode") or "")
    return ""


def _lower(value: Any) -> str:
    return str(value).lower() if value else ""


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(t) for t in value]
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return []


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"not an integer: {value!r}") from None


def _without(node: JsonObject, *names: str) -> JsonObject:
    return {k: v for k, v in node.items() if k not in names}


def _rest(node: JsonObject) -> bool:
    # REST payloads carry snake_case times; GraphQL nodes camelCase.
    return "updated_at" in node or "created_at" in node


# --------------------------------------------------------------------- products


def product_row(node: JsonObject) -> Row:
    """A products row with its `variants` rows (a complete list)."""
    pid = shopify_id(node.get("id"))
    rest = _rest(node)
    variants = node.get("variants") or []
    if isinstance(variants, dict):  # an unflattened connection
        variants = variants.get("nodes") or []
    return {
        "shopify_id": pid,
        "title": str(node.get("title") or ""),
        "handle": str(node.get("handle") or ""),
        "status": _lower(node.get("status")),
        "vendor": str(node.get("vendor") or ""),
        "product_type": str(node.get("product_type" if rest else "productType") or ""),
        "tags": _tags(node.get("tags")),
        "created_at": timestamp(node.get("created_at" if rest else "createdAt")),
        "updated_at": required_timestamp(node.get("updated_at" if rest else "updatedAt")),
        "data": _without(node, "variants"),
        "variants": [variant_row(v, pid, rest=rest) for v in variants],
    }


def variant_row(node: JsonObject, product_id: int, *, rest: bool) -> Row:
    """A product_variants row."""
    return {
        "shopify_id": shopify_id(node.get("id")),
        "product_id": product_id,
        "title": str(node.get("title") or ""),
        "sku": str(node.get("sku") or ""),
        "price": amount(node.get("price")),
        "inventory_quantity": _int(node.get("inventory_quantity" if rest else "inventoryQuantity")),
        "updated_at": timestamp(node.get("updated_at" if rest else "updatedAt")),
        "data": _without(node, "product", "__parentId"),
    }


# ----------------------------------------------------------------------- orders


def order_row(node: JsonObject) -> Row:
    """An orders row with `line_items` rows, and `transactions` rows when the source has them.

    GraphQL orders carry their transactions; REST webhook payloads do not (None: the stored
    transactions stay as they are).
    """
    oid = shopify_id(node.get("id"))
    rest = _rest(node)
    updated_at = required_timestamp(node.get("updated_at" if rest else "updatedAt"))
    customer_id = optional_id(node.get("customer"))
    if rest:
        financial = _lower(node.get("financial_status"))
        fulfillment = _lower(node.get("fulfillment_status")) or "unfulfilled"
        total = amount(node.get("total_price"))
        currency = str(node.get("currency") or "")
    else:
        financial = _lower(node.get("displayFinancialStatus"))
        fulfillment = _lower(node.get("displayFulfillmentStatus"))
        total = amount(node.get("totalPriceSet"))
        currency = str(node.get("currencyCode") or _currency(node.get("totalPriceSet")))
    line_items = node.get("line_items" if rest else "lineItems") or []
    if isinstance(line_items, dict):
        line_items = line_items.get("nodes") or []
    transactions = None if rest else node.get("transactions") or []
    data = _without(node, "line_items", "lineItems", "transactions")
    if isinstance(node.get("customer"), dict):
        data["customer"] = {"id": node["customer"].get("id")}  # the rest lives in customers
    return {
        "shopify_id": oid,
        "name": str(node.get("name") or ""),
        "email": node.get("email") or None,
        "customer_id": customer_id,
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "currency": currency,
        "total_price": total,
        "created_at": timestamp(node.get("created_at" if rest else "createdAt")),
        "processed_at": timestamp(node.get("processed_at" if rest else "processedAt")),
        "cancelled_at": timestamp(node.get("cancelled_at" if rest else "cancelledAt")),
        "updated_at": updated_at,
        "data": data,
        "line_items": [line_item_row(li, oid, customer_id, rest=rest) for li in line_items],
        "transactions": None
        if transactions is None
        else [transaction_row(t, oid, customer_id, updated_at) for t in transactions],
    }


def line_item_row(node: JsonObject, order_id: int, customer_id: int | None, *, rest: bool) -> Row:
    """An order_line_items row."""
    return {
        "shopify_id": shopify_id(node.get("id")),
        "order_id": order_id,
        "customer_id": customer_id,
        "title": str(node.get("title") or node.get("name") or ""),
        "quantity": _int(node.get("quantity")) or 0,
        "sku": str(node.get("sku") or ""),
        "variant_id": optional_id(node.get("variant_id") if rest else node.get("variant")),
        "price": amount(node.get("price") if rest else node.get("originalUnitPriceSet")),
        "data": _without(node, "variant", "product", "__parentId"),
    }


def transaction_row(
    node: JsonObject, order_id: int, customer_id: int | None, order_updated_at: datetime
) -> Row:
    """A transactions row (GraphQL OrderTransaction)."""
    data = _without(node, "parentTransaction")
    parent = optional_id(node.get("parentTransaction"))
    if parent is not None:
        data["parentTransaction"] = {"id": node["parentTransaction"].get("id")}
    return {
        "shopify_id": shopify_id(node.get("id")),
        "order_id": order_id,
        "customer_id": customer_id,
        "kind": _lower(node.get("kind")),
        "status": _lower(node.get("status")),
        "gateway": str(node.get("gateway") or ""),
        "amount": amount(node.get("amountSet")),
        "currency": _currency(node.get("amountSet")),
        "test": bool(node.get("test")),
        "parent_id": parent,
        "created_at": timestamp(node.get("createdAt")),
        "processed_at": timestamp(node.get("processedAt")),
        "updated_at": order_updated_at,
        "data": data,
    }


# -------------------------------------------------------------------- customers


def customer_row(node: JsonObject) -> Row:
    """A customers row. REST payloads may omit counts and totals: None keeps the stored ones."""
    rest = _rest(node)
    if rest:
        email = node.get("email")
        orders_count = _int(node.get("orders_count"))
        spent = amount(node.get("total_spent"))
        currency = str(node.get("currency") or "")
    else:
        email = (node.get("defaultEmailAddress") or {}).get("emailAddress") or node.get("email")
        orders_count = _int(node.get("numberOfOrders"))
        spent = amount(node.get("amountSpent"))
        currency = _currency(node.get("amountSpent"))
    verified = node.get("verified_email" if rest else "verifiedEmail")
    return {
        "shopify_id": shopify_id(node.get("id")),
        "email": email or None,
        "first_name": str(node.get("first_name" if rest else "firstName") or ""),
        "last_name": str(node.get("last_name" if rest else "lastName") or ""),
        "state": _lower(node.get("state")),
        "tags": _tags(node.get("tags")),
        "orders_count": orders_count,
        "amount_spent": spent,
        "currency": currency,
        "verified_email": None if verified is None else bool(verified),
        "created_at": timestamp(node.get("created_at" if rest else "createdAt")),
        "updated_at": required_timestamp(node.get("updated_at" if rest else "updatedAt")),
        "data": dict(node),
    }


# The row builder of each synced resource (sync pages, bulk results and webhooks alike).
ROW_BUILDERS: dict[Resource, Callable[[JsonObject], Row]] = {
    "products": product_row,
    "orders": order_row,
    "customers": customer_row,
}
