"""The privacy (GDPR) topics, done generically from every model's `privacy` rule.

`customers/data_request` builds the customer's export, `customers/redact` deletes or
anonymises the customer's rows, `shop/redact` deletes every row of the shop but its audit
record. Each works from the `PrivacyRule`s of the models registered with Tortoise, so a new
table with a rule joins all three without a change here. Each request runs in one
transaction under a per-shop advisory lock: requests of one shop never interleave, a retry
redoes nothing twice, and any order of arrival ends in the same state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import ComplianceRequest, PrivacyAudit, RedactedIdentity, Shop
from models.compliance import COMPLIANCE_DEADLINE_DAYS, identity_hash
from models.privacy import PrivacyRule
from server.sync.cache import bump_version

log = logging.getLogger(__name__)

# Shopify sends shop/redact 48 hours after the uninstall that caused it.
SHOP_REDACT_DELAY = timedelta(hours=48)
PRIVACY_QUEUE = "privacy"


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
            id=_int_or_none(customer.get("id")),
            email=str(customer["email"]).strip() or None if customer.get("email") else None,
            phone=str(customer["phone"]).strip() or None if customer.get("phone") else None,
            order_ids=tuple(
                i for i in (_int_or_none(o) for o in orders if not isinstance(o, bool)) if i
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


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def requested_at(delivery: dict[str, Any] | None) -> datetime:
    """When Shopify triggered the request (else when we received it, else now)."""
    delivery = delivery or {}
    return (
        _parse_time(delivery.get("triggered_at"))
        or _parse_time(delivery.get("received_at"))
        or utcnow()
    )


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
        [RedactedIdentity(shop=shop, kind=kind, value_hash=identity_hash(value))
         for kind, value in sorted(identities)],
        ignore_conflicts=True,
        using_db=conn,
    )


def _q(key: str, value: Any) -> Q:
    return Q(**{key: value})


def _rows(model: type[Model], where: Q, conn: BaseDBAsyncClient) -> Q:
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


# ------------------------------------------------------------------ the three requests


async def customer_data_request(
    domain: str, payload: dict[str, Any], delivery: dict[str, Any] | None
) -> None:
    """Record the request with its due date and build the customer's export into it."""
    delivery = delivery or {}
    event_id = str(delivery.get("event_id") or _data_request_key(payload))
    at = requested_at(delivery)
    who = CustomerIdentity.from_payload(payload, orders_key="orders_requested")
    async with in_transaction() as conn:
        await lock_shop(conn, domain)
        shop = await Shop.filter(domain=domain).using_db(conn).first()
        if shop is None:
            await record_audit(
                conn,
                domain=domain,
                topic="customers/data_request",
                event_id=event_id,
                at=at,
                rows_affected={},
                note="no data held: unknown shop",
            )
            return
        request, _ = await ComplianceRequest.get_or_create(
            defaults={
                "topic": "customers/data_request",
                "data_request_id": _int_or_none((payload.get("data_request") or {}).get("id")),
                "customer_id": who.id,
                "customer_email": who.email,
                "customer_phone": who.phone,
                "orders_requested": list(who.order_ids),
                "status": "pending",
                "requested_at": at,
                "due_at": at + timedelta(days=COMPLIANCE_DEADLINE_DAYS),
            },
            using_db=conn,
            shop=shop,
            event_id=event_id,
        )
        if request.status != "pending":
            return  # done by an earlier attempt
        tables = await build_export(conn, shop, who)
        request.export = {
            "customer": {"id": who.id, "email": who.email, "phone": who.phone},
            "orders_requested": list(who.order_ids),
            "tables": tables,
        }
        request.status = "completed"
        request.completed_at = utcnow()
        await request.save(using_db=conn, update_fields=["export", "status", "completed_at"])
        await record_audit(
            conn,
            domain=domain,
            topic="customers/data_request",
            event_id=event_id,
            at=at,
            rows_affected={table: len(rows) for table, rows in tables.items()},
        )
    log.info("customer data export built", extra={"shop": domain, "tables": len(tables)})


def _data_request_key(payload: dict[str, Any]) -> str:
    request = payload.get("data_request") or {}
    return f"data_request:{request.get('id')}" if isinstance(request, dict) else "data_request"


async def redact_customer(
    domain: str,
    payload: dict[str, Any],
    delivery: dict[str, Any] | None,
    *,
    redis: Redis | None = None,
) -> dict[str, int]:
    """Delete or anonymise the customer's rows in every table, per its rule."""
    delivery = delivery or {}
    at = requested_at(delivery)
    who = CustomerIdentity.from_payload(payload, orders_key="orders_to_redact")
    counts: dict[str, int] = {}
    linked: set[tuple[str, str]] = set()
    async with in_transaction() as conn:
        await lock_shop(conn, domain)
        shop = await Shop.filter(domain=domain).using_db(conn).first()
        for model, rule in privacy_models():
            if rule.on_customer_redact == "none":
                continue
            in_shop = shop_filter(rule, shop, domain)
            where = customer_rows(model, rule, in_shop, who) if in_shop is not None else None
            if where is None:
                continue
            if rule.linked_by is not None:
                linked.update(
                    (rule.linked_by, str(v))
                    for v in await model.filter(where)
                    .using_db(conn)
                    .distinct()
                    .values_list(rule.linked_by, flat=True)
                    if v
                )
            rows = model.filter(_rows(model, where, conn)).using_db(conn)
            if rule.on_customer_redact == "delete":
                counts[model._meta.db_table] = await rows.delete()
            else:
                counts[model._meta.db_table] = await rows.update(**rule.anonymise)
        if shop is not None:
            await remember_redacted(conn, shop, who, linked)
            counts.update(await redact_pixel_clients(conn, shop.pk, linked))
        counts["webhook_deliveries"] = await redact_webhook_payloads(conn, domain, who)
        await record_audit(
            conn,
            domain=domain,
            topic="customers/redact",
            event_id=str(delivery.get("event_id") or f"customer:{at.isoformat()}"),
            at=at,
            rows_affected=counts,
        )
    if redis is not None and shop is not None:
        # After the commit: no cached API page may still show what was just erased.
        await bump_version(redis, shop.pk)
    log.info("customer redacted", extra={"shop": domain, "rows": sum(counts.values())})
    return counts


# Stored webhook payloads of the shop that name the customer: purged, and a pending one is
# never applied (it would bring the customer back). Matched in the raw JSON text, by e-mail
# (case-insensitive), phone, the customer's id or an order to redact; a false match only
# purges a payload early. The customers/redact delivery's own payload is among them.
_REDACT_PAYLOADS = """
UPDATE webhook_deliveries SET
    payload = NULL,
    last_error = NULL,
    state = CASE WHEN state = 'pending' AND topic <> 'customers/redact'
                 THEN 'redacted' ELSE state END
WHERE shop_domain = $1 AND payload IS NOT NULL
  AND (topic LIKE 'customers/%' OR topic LIKE 'orders/%')
  AND (
    ($2::text IS NOT NULL AND strpos(lower(payload), $2) > 0)
    OR ($3::text IS NOT NULL AND strpos(payload, $3) > 0)
    OR ($4::text IS NOT NULL AND payload ~ ('"id"\\s*:\\s*"?(' || $4 || ')([^0-9]|$)'))
  )
"""


# The first-seen rows are found through their key's hash index (migrations/models/5_*), one
# probe per (day, name, client): every first-seen row was inserted by the statement that
# counted it into the aggregate row of its (shop, day, name), so the shop's aggregate rows,
# from the oldest day first-seen still holds, list every (day, name) its rows can have.
_REDACT_DAY_CLIENTS = """
DELETE FROM pixel_day_clients d
USING pixel_daily_aggregates a, unnest($2::text[]) AS c(client_id)
WHERE a.shop_id = $1 AND a.day >= (SELECT min(day) FROM pixel_day_clients)
  AND d.shop_id::text || ' ' || (d.day - DATE '2000-01-01')::text || ' '
      || length(d.name)::text || ' ' || d.name || d.client_id
    = $1::bigint::text || ' ' || (a.day - DATE '2000-01-01')::text || ' '
      || length(a.name)::text || ' ' || a.name || c.client_id
"""


async def redact_pixel_clients(
    conn: BaseDBAsyncClient, shop_id: int, linked: set[tuple[str, str]]
) -> dict[str, int]:
    """The customer's browsers leave the pipeline's tables too: the first-seen clients
    (their counts stay: they are not the customer's) and the summaries not yet folded."""
    clients = [value for kind, value in linked if kind == "client_id"]
    if not clients:
        return {}
    seen, _ = await conn.execute_query(_REDACT_DAY_CLIENTS, [shop_id, clients])
    pending, _ = await conn.execute_query(
        "UPDATE pixel_pending SET client_id = NULL WHERE shop_id = $1"
        " AND client_id = ANY($2::text[])",
        [shop_id, clients],
    )
    return {"pixel_day_clients": int(seen), "pixel_pending": int(pending)}


async def redact_webhook_payloads(
    conn: BaseDBAsyncClient, domain: str, who: CustomerIdentity
) -> int:
    """Purge the shop's stored webhook payloads that name the customer; how many."""
    ids = [str(i) for i in (who.id, *who.order_ids) if i is not None]
    count, _ = await conn.execute_query(
        _REDACT_PAYLOADS,
        [domain, who.email.lower() if who.email else None, who.phone or None,
         "|".join(ids) or None],
    )
    return int(count)


async def redact_shop(
    domain: str, payload: dict[str, Any], delivery: dict[str, Any] | None
) -> dict[str, int]:
    """Delete every row of the shop in every table, but the audit of this redaction."""
    delivery = delivery or {}
    at = requested_at(delivery)
    event_id = str(delivery.get("event_id") or f"shop:{at.isoformat()}")
    counts: dict[str, int] = {}
    async with in_transaction() as conn:
        await lock_shop(conn, domain)
        shop = await Shop.filter(domain=domain).using_db(conn).first()
        if shop is not None and _reinstalled_since(shop, at):
            # The merchant came back after the uninstall this redaction follows.
            await record_audit(
                conn,
                domain=domain,
                topic="shop/redact",
                event_id=event_id,
                at=at,
                rows_affected={},
                note="skipped: the shop reinstalled the app after uninstalling",
            )
            log.warning("shop/redact skipped: shop reinstalled", extra={"shop": domain})
            return counts
        for model, rule in privacy_models():
            if rule.on_shop_redact != "delete":
                continue
            in_shop = shop_filter(rule, shop, domain)
            if in_shop is None:
                continue
            rows = model.filter(_rows(model, in_shop, conn)).using_db(conn)
            counts[model._meta.db_table] = await rows.delete()
        # Of the audit log only the record of this redaction stays.
        await (
            PrivacyAudit.filter(shop_domain=domain)
            .exclude(topic="shop/redact")
            .using_db(conn)
            .delete()
        )
        await record_audit(
            conn,
            domain=domain,
            topic="shop/redact",
            event_id=event_id,
            at=at,
            rows_affected=counts,
        )
    log.info("shop redacted", extra={"shop": domain, "rows": sum(counts.values())})
    return counts


def _reinstalled_since(shop: Shop, at: datetime) -> bool:
    return (
        shop.installed
        and shop.installed_at is not None
        and (shop.installed_at > at - SHOP_REDACT_DELAY)
    )
