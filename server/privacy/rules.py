"""The privacy machinery every request uses, driven by each model's `PrivacyRule`.

Which tables hold a shop's or a customer's rows (from the rules of the models registered
with Tortoise), the customer's identity as a request states it, exports, the audit record
and the per-shop lock. A new table with a rule joins every privacy request with no change
here or in server/privacy/requests.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.models import Model

from models import PrivacyAudit, RedactedIdentity, Shop
from models.compliance import COMPLIANCE_DEADLINE_DAYS, identity_hash
from models.privacy import PrivacyRule

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CustomerIdentity:
    """What a privacy request says identifies the customer."""

    id: int | None
    email: str | None
    phone: str | None
    order_ids: tuple[int, ...]

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, orders_key: str) -> CustomerIdentity:
        """From a customers/data_request or customers/redact payload."""
        customer = payload.get("customer") or {}
        if not isinstance(customer, dict):
            customer = {}
        orders = payload.get(orders_key) or []
        return cls(
            id=int_or_none(customer.get("id")),
            email=str(customer["email"]).strip() or None if customer.get("email") else None,
            phone=str(customer["phone"]).strip() or None if customer.get("phone") else None,
            order_ids=tuple(
                i for i in (int_or_none(o) for o in orders if not isinstance(o, bool)) if i
            ),
        )

    def q(self, rule: PrivacyRule) -> Q | None:
        """The rows of a table that belong to this customer, per the table's rule."""
        conditions: list[Q] = []

        def match(key: str, value: Any) -> None:
            conditions.append(_q(key, value))

        for holds, key in rule.customer_fields.items():
            if holds == "id" and self.id is not None:
                match(key, self.id)
            elif holds == "gid" and self.id is not None:
                match(key, f"gid://shopify/Customer/{self.id}")
            elif holds == "email" and self.email:
                match(f"{key}__iexact", self.email)
            elif holds == "phone" and self.phone:
                match(key, self.phone)
            elif holds == "order_id" and self.order_ids:
                match(f"{key}__in", list(self.order_ids))
            elif holds == "order_gid" and self.order_ids:
                gids = [f"gid://shopify/Order/{i}" for i in self.order_ids]
                match(f"{key}__in", gids)
        if not conditions:
            return None
        return Q(*conditions, join_type="OR")


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ the rules


def privacy_models() -> list[tuple[type[Model], PrivacyRule]]:
    """Every registered model with a rule; a model comes before the models it references."""
    found: dict[type[Model], PrivacyRule] = {}
    for app in Tortoise.apps.values():
        for model in app.values():
            rule = getattr(model, "privacy", None)
            if isinstance(rule, PrivacyRule):
                found[model] = rule
    ordered: list[type[Model]] = []
    seen: set[type[Model]] = set()

    def visit(model: type[Model]) -> None:
        if model in seen:
            return
        seen.add(model)
        for parent in _references(model):
            if parent in found:
                visit(parent)
        ordered.append(model)  # after every model it references

    for model in sorted(found, key=lambda m: m._meta.db_table):
        visit(model)
    # Referencing models first: deleting children before parents never trips an FK.
    return [(m, found[m]) for m in reversed(ordered)]


def _references(model: type[Model]) -> set[type[Model]]:
    meta = model._meta
    return {meta.fields_map[name].related_model for name in meta.fk_fields | meta.o2o_fields}  # type: ignore[attr-defined]


def shop_filter(rule: PrivacyRule, shop: Shop | None, domain: str) -> Q | None:
    """The rows of the shop in a table; None when the table cannot hold any."""
    last = rule.shop_field.rsplit("__", 1)[-1]
    if last.endswith("domain"):
        return _q(rule.shop_field, domain)
    if shop is None:
        return None  # nothing can reference a Shop row that does not exist
    return _q(rule.shop_field, shop.pk)


def customer_rows(
    model: type[Model], rule: PrivacyRule, in_shop: Q, who: CustomerIdentity
) -> Q | None:
    """The customer's rows of the shop in a table, widened through `rule.linked_by`."""
    of_customer = who.q(rule)
    if of_customer is None:
        return None
    matched = in_shop & of_customer
    if rule.linked_by is None:
        return matched
    linked = Subquery(model.filter(matched).values(rule.linked_by))
    return in_shop & _q(f"{rule.linked_by}__in", linked)


async def remember_redacted(
    conn: BaseDBAsyncClient, shop: Shop, who: CustomerIdentity, linked: set[tuple[str, str]]
) -> None:
    """Keep hashes of what identified the customer, so rows arriving late are refused."""
    identities = set(linked)
    if who.email:
        identities.add(("email", who.email.lower()[:320]))
    if who.phone:
        identities.add(("phone", who.phone[:64]))
    if not identities:
        return
    await RedactedIdentity.bulk_create(
        [
            RedactedIdentity(shop=shop, kind=kind, value_hash=identity_hash(value))
            for kind, value in sorted(identities)
        ],
        ignore_conflicts=True,
        using_db=conn,
    )


def _q(key: str, value: Any) -> Q:
    return Q(**{key: value})


def rows_of(model: type[Model], where: Q, conn: BaseDBAsyncClient) -> Q:
    # Matching through a subquery keeps every rule's joins inside one DELETE/UPDATE.
    pk = model._meta.pk_attr
    return _q(f"{pk}__in", Subquery(model.filter(where).using_db(conn).values(pk)))


async def lock_shop(conn: BaseDBAsyncClient, domain: str) -> None:
    """Serialise a shop's privacy requests (held until the transaction ends)."""
    await conn.execute_query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"privacy:{domain}"]
    )


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Decimals, datetimes and UUIDs become JSON strings once, here.
    result: list[dict[str, Any]] = orjson.loads(orjson.dumps(rows, default=str))
    return result


async def build_export(
    conn: BaseDBAsyncClient, shop: Shop, who: CustomerIdentity
) -> dict[str, list[dict[str, Any]]]:
    """The customer's rows of every table whose rule says `export`."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model, rule in privacy_models():
        if not rule.export:
            continue
        in_shop = shop_filter(rule, shop, shop.domain)
        where = customer_rows(model, rule, in_shop, who) if in_shop is not None else None
        if where is None:
            continue
        rows = await model.filter(where).using_db(conn).values()
        tables[model._meta.db_table] = _jsonable(list(rows))
    return tables


async def record_audit(
    conn: BaseDBAsyncClient,
    *,
    domain: str,
    topic: str,
    event_id: str,
    at: datetime,
    rows_affected: dict[str, int],
    note: str = "",
) -> None:
    """Record the request as completed now; a retry keeps the first completion's record."""
    done = (
        await PrivacyAudit.filter(
            shop_domain=domain, topic=topic, event_id=event_id, completed_at__isnull=False
        )
        .using_db(conn)
        .exists()
    )
    if done:
        return
    await PrivacyAudit.update_or_create(
        defaults={
            "requested_at": at,
            "due_at": at + timedelta(days=COMPLIANCE_DEADLINE_DAYS),
            "completed_at": utcnow(),
            "rows_affected": rows_affected,
            "note": note,
        },
        using_db=conn,
        shop_domain=domain,
        topic=topic,
        event_id=event_id,
    )
