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
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import ComplianceRequest, PrivacyAudit, Shop
from models.compliance import COMPLIANCE_DEADLINE_DAYS
from server.actor_names import PROCESS_PRIVACY_WEBHOOKS
from server.page_cache import bump_version
from server.privacy.rules import (
    CustomerIdentity,
    build_export,
    customer_rows,
    int_or_none,
    lock_shop,
    privacy_models,
    record_audit,
    remember_redacted,
    rows_of,
    shop_filter,
    utcnow,
)
from server.redact_steps import CUSTOMER_REDACT_STEPS, RedactedCustomer
from server.sweep import RETENTION_STEPS, Retention
from server.webhook_topics import Topic, register_topics, requested_at

log = logging.getLogger(__name__)

# Shopify sends shop/redact 48 hours after the uninstall that caused it.
SHOP_REDACT_DELAY = timedelta(hours=48)


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
                "data_request_id": int_or_none((payload.get("data_request") or {}).get("id")),
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
            rows = model.filter(rows_of(model, where, conn)).using_db(conn)
            if rule.on_customer_redact == "delete":
                counts[model._meta.db_table] = await rows.delete()
            else:
                counts[model._meta.db_table] = await rows.update(**rule.anonymise)
        if shop is not None:
            await remember_redacted(conn, shop, who, linked)
        customer = RedactedCustomer(
            domain=domain,
            shop_id=shop.pk if shop is not None else None,
            id=who.id,
            email=who.email,
            phone=who.phone,
            order_ids=who.order_ids,
            linked=frozenset(linked),
        )
        for step in CUSTOMER_REDACT_STEPS.handlers():
            counts.update(await step(conn, customer))
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
        if shop is not None and _reinstalled_since(
            shop, await _uninstall_followed(conn, domain, delivery) or at - SHOP_REDACT_DELAY
        ):
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
            rows = model.filter(rows_of(model, in_shop, conn)).using_db(conn)
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


# The uninstall a redaction follows: the shop's last app/uninstalled the intake committed
# before it (ids follow the commit order). Its earlier lifecycle deliveries are applied by
# then (server/webhook_topics.py, `in_order`), or failed for good.
_UNINSTALL_FOLLOWED = """
SELECT triggered_at, received_at FROM webhook_deliveries
WHERE shop_domain = $1 AND topic = 'app/uninstalled' AND id < $2
ORDER BY id DESC LIMIT 1
"""


async def _uninstall_followed(
    conn: BaseDBAsyncClient, domain: str, delivery: dict[str, Any]
) -> datetime | None:
    """When the uninstall this redaction follows happened; None when it is not on record
    (then Shopify's rule stands in: the redaction comes 48 hours after the uninstall)."""
    if delivery.get("id") is None:
        return None
    rows = await conn.execute_query_dict(_UNINSTALL_FOLLOWED, [domain, int(delivery["id"])])
    if not rows:
        return None
    return rows[0]["triggered_at"] or rows[0]["received_at"]  # type: ignore[no-any-return]


def _reinstalled_since(shop: Shop, uninstalled_at: datetime) -> bool:
    """An install was committed after the uninstall: the merchant came back."""
    return shop.installed and shop.installed_at is not None and shop.installed_at > uninstalled_at


async def _data_request(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await customer_data_request(shop, payload, d)


async def _customer_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_customer(shop, payload, d)


async def _shop_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_shop(shop, payload, d)


# The mandatory privacy topics (not subscribed by API: shopify.app.toml's compliance_topics).
register_topics(
    {
        "customers/data_request": Topic(_data_request, PROCESS_PRIVACY_WEBHOOKS, subscribed=False),
        "customers/redact": Topic(
            _customer_redact, PROCESS_PRIVACY_WEBHOOKS, subscribed=False, changes_shop_data=True
        ),
        "shop/redact": Topic(
            _shop_redact, PROCESS_PRIVACY_WEBHOOKS, subscribed=False, in_order=True
        ),
    }
)


_EXPIRE_EXPORTS = """
UPDATE compliance_requests SET export = NULL, status = 'expired'
WHERE status = 'completed' AND completed_at < now() - make_interval(days => $1)
"""


@RETENTION_STEPS.register("privacy exports")
async def expire_exports(connection: BaseDBAsyncClient, keep: Retention) -> dict[str, int]:
    """Completed exports past `retention.privacy_exports_days` are emptied and expired."""
    expired, _ = await connection.execute_query(_EXPIRE_EXPORTS, [keep.days.privacy_exports_days])
    return {"exports_expired": int(expired)}
