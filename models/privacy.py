"""How each table takes part in privacy requests (export, customer redact, shop redact).

Every model that links to a shop or a customer declares a `privacy` rule; the privacy
actors work from these rules alone, and a test walks every model to make sure none is
forgotten. A new table without a rule fails that test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class PrivacyRule:
    """One table's part in privacy requests.

    - `shop_field`: the filter key naming the shop (e.g. "shop_id", or "shop__domain").
    - `customer_fields`: filter keys that identify a customer's rows, by what they hold:
      {"id": "customer_id"} (Shopify's numeric customer id), {"email": "email"}, or a join
      like {"id": "order__customer_id"}. Empty when the table holds nothing of customers.
      Keys the privacy actors understand (each matched when the request carries it):
      "id" (numeric customer id), "gid" (gid://shopify/Customer/<id>), "email"
      (case-insensitive), "phone", "order_id" (numeric ids of the request's
      `orders_requested` / `orders_to_redact`), "order_gid" (gid://shopify/Order/<id>).
    - `on_customer_redact`: delete the customer's rows, or anonymise them in place
      (set `anonymise` values) when the rows must stay (e.g. order totals for the merchant).
    - `linked_by`: a column whose value ties other rows to a matched one (e.g. a pixel
      event's `client_id`: once a checkout names the customer, that browser's other events
      are theirs too). Rows sharing the value with a matched row of the shop also match.
    - `export`: whether the table's rows of the customer go into a data_request export.
    - `on_shop_redact`: "delete" for every table but the audit record of the redaction.
      A `shop_field` ending in "domain" is matched against the shop's domain, any other
      against the Shop row's primary key (so a table may also reach the shop through a
      join, e.g. "web_pixel__shop_id").
    """

    shop_field: str = "shop_id"
    customer_fields: dict[str, str] = field(default_factory=dict)
    on_customer_redact: Literal["delete", "anonymise", "none"] = "none"
    anonymise: dict[str, Any] = field(default_factory=dict)
    linked_by: str | None = None
    export: bool = False
    on_shop_redact: Literal["delete", "keep"] = "delete"
