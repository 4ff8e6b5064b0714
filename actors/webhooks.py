"""Webhook deliveries: claimed from the outbox, applied, marked done; and registration.

The web process commits each delivery (payload included) in `webhook_deliveries` before it
answers 200, then sends the new ids to the topic's process actor. A worker claims each id
(`FOR UPDATE SKIP LOCKED` on a pending row), runs the topic's handler and marks the row done
in the same transaction, so the effect and "done" commit together. A handler that raises
leaves the row pending with a backoff, or `failed` after `outbox.max_attempts` (or at once
for an error no retry can fix); the sweeper (actors/sweeper.py) sends again whatever is
due, so a lost message, an emptied Redis or a killed worker only delays a delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
import orjson
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.transactions import in_transaction

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.privacy import (
    PRIVACY_QUEUE,
    customer_data_request,
    redact_customer,
    redact_shop,
    requested_at,
)
from actors.resources import resources
from actors.sync import SYNC_QUEUE
from actors.uninstall import UNINSTALL_STEPS, revoke_shop_access
from models.webhooks import DELIVERY_DONE, DELIVERY_FAILED, DELIVERY_PENDING
from server.config import OutboxConfig
from server.services import ShopifyServices
from server.shopify.errors import ShopifyAuthError
from server.shops import ShopTokenError
from server.stores import store_down
from server.sync.cache import bump_version
from server.sync.changes import PayloadError, UnknownTopicError, apply_data_change
from server.webhook_topics import DATA_TOPICS, SUBSCRIBED_TOPICS, graphql_topic

log = logging.getLogger(__name__)

WEBHOOKS_QUEUE = "webhooks"
# A message that could not claim its deliveries (the database is down) is retried by
# Dramatiq a few times; past that the sweeper sends the still-pending ids again.
_PROCESS_OPTIONS: dict[str, Any] = {
    "max_retries": 5,
    "min_backoff": 1_000,
    "max_backoff": 60_000,
    "time_limit": 600_000,
}


@dramatiq.actor(queue_name=WEBHOOKS_QUEUE, **_PROCESS_OPTIONS)
async def process_webhooks(ids: list[int]) -> None:
    """Apply pending deliveries of app/uninstalled (and anything else on this queue)."""
    await _process(ids)


@dramatiq.actor(queue_name=PRIVACY_QUEUE, **_PROCESS_OPTIONS)
async def process_privacy_webhooks(ids: list[int]) -> None:
    """Apply pending deliveries of the mandatory privacy topics."""
    await _process(ids)


@dramatiq.actor(queue_name=SYNC_QUEUE, **_PROCESS_OPTIONS)
async def process_data_webhooks(ids: list[int]) -> None:
    """Apply pending products/orders/customers deliveries to the synced rows."""
    await _process(ids)


async def _process(ids: list[int]) -> None:
    current = resources()
    await process_deliveries(ids, outbox=current.config.outbox, redis=current.redis)


Handler = Callable[[str, str, dict[str, Any], dict[str, Any]], Awaitable[None]]


async def _data_change(topic: str, shop: str, payload: dict[str, Any], _d: dict[str, Any]) -> None:
    await apply_data_change(topic, shop, payload)


async def _uninstalled(_t: str, shop: str, _p: dict[str, Any], delivery: dict[str, Any]) -> None:
    await uninstall_shop(shop, delivery)


async def _data_request(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await customer_data_request(shop, payload, d)


async def _customer_redact(
    _t: str, shop: str, payload: dict[str, Any], delivery: dict[str, Any]
) -> None:
    await redact_customer(shop, payload, delivery)


async def _shop_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_shop(shop, payload, d)


async def uninstall_shop(shop: str, delivery: dict[str, Any] | None) -> None:
    """Revoke the shop's access and run UNINSTALL_STEPS, unless a reinstall superseded it."""
    if not await revoke_shop_access(shop, uninstalled_at=requested_at(delivery)):
        # No such shop, or a late copy of an uninstall that a reinstall already superseded.
        log.info("app/uninstalled changed nothing", extra={"shop": shop})
        return
    for step in UNINSTALL_STEPS:
        await step(shop)
    log.info("shop uninstalled", extra={"shop": shop})


@dataclass(frozen=True, slots=True)
class TopicRoute:
    """What applies a topic's deliveries, and which actor (queue) wakes for them.

    `permanent`: errors no retry can fix (the delivery fails at once). `changes_shop_data`:
    cached API pages of the shop are invalidated once the effect is committed.
    """

    handler: Handler
    actor: dramatiq.Actor[Any, Any]
    permanent: tuple[type[Exception], ...] = ()
    changes_shop_data: bool = False


# Every topic the endpoint stores for a worker; anything else is recorded and ignored.
TOPIC_ROUTES: dict[str, TopicRoute] = {
    # products/*, orders/*, customers/*: the sync keeps its rows fresh from these.
    **{
        topic: TopicRoute(
            _data_change,
            process_data_webhooks,
            permanent=(PayloadError, UnknownTopicError),
            changes_shop_data=True,
        )
        for topic in DATA_TOPICS
    },
    "app/uninstalled": TopicRoute(_uninstalled, process_webhooks),
    "customers/data_request": TopicRoute(_data_request, process_privacy_webhooks),
    "customers/redact": TopicRoute(
        _customer_redact, process_privacy_webhooks, changes_shop_data=True
    ),
    "shop/redact": TopicRoute(_shop_redact, process_privacy_webhooks),
}


def wake_actor(topic: str) -> dramatiq.Actor[Any, Any]:
    """The process actor that applies the topic's deliveries."""
    route = TOPIC_ROUTES.get(topic)
    return route.actor if route is not None else process_webhooks


def group_by_actor(rows: list[tuple[int, str]]) -> dict[dramatiq.Actor[Any, Any], list[int]]:
    """(delivery id, topic) pairs grouped by the actor that wakes for them."""
    groups: dict[dramatiq.Actor[Any, Any], list[int]] = {}
    for delivery_id, topic in rows:
        groups.setdefault(wake_actor(topic), []).append(delivery_id)
    return groups


_CLAIM = """
SELECT d.id, d.shop_domain, d.topic, d.event_id, d.webhook_id, d.triggered_at,
       d.received_at, d.payload, s.id AS shop_id
FROM webhook_deliveries d LEFT JOIN shops s ON s.domain = d.shop_domain
WHERE d.id = $1 AND d.state = 'pending'
FOR UPDATE OF d SKIP LOCKED
"""

_DONE = """
UPDATE webhook_deliveries
SET state = $2, attempts = attempts + 1, last_error = $3, done_at = now(),
    next_attempt_at = NULL
WHERE id = $1
"""

# A failure: pending again after a backoff (doubling per attempt), or failed for good.
_FAILED = """
UPDATE webhook_deliveries SET
    attempts = attempts + 1,
    last_error = $2,
    state = CASE WHEN $3 OR attempts + 1 >= $4 THEN 'failed' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => least($5 * power(2, attempts), $6))
WHERE id = $1 AND state = 'pending'
RETURNING state
"""


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


def _without_nul(payload: Any, text: str) -> Any:
    """The payload with NUL characters dropped from its strings (PostgreSQL text refuses
    them, and a delivery must not fail forever for one)."""
    return _strip_nul(payload) if "\\u0000" in text else payload


def describe_error(error: BaseException) -> str:
    """What the database keeps of a failure: the type and a short message (never logged)."""
    return f"{type(error).__name__}: {error}"[:255]


def delivery_meta(row: dict[str, Any]) -> dict[str, Any]:
    """The delivery's metadata as handlers read it (event id, when Shopify triggered it)."""
    return {
        "event_id": row["event_id"],
        "webhook_id": row["webhook_id"],
        "triggered_at": row["triggered_at"].isoformat() if row["triggered_at"] else None,
        "received_at": row["received_at"].isoformat(),
    }


async def process_deliveries(
    ids: list[int], *, outbox: OutboxConfig, redis: Redis | None
) -> dict[str, int]:
    """Apply each pending delivery of `ids` once; returns how many ended in each state.

    A store that is down raises (the message is retried; the rows stay pending); any other
    error is the delivery's own and is recorded on its row.
    """
    outcomes: dict[str, int] = {}
    for delivery_id in ids:
        outcome = await process_delivery(int(delivery_id), outbox=outbox, redis=redis)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def process_delivery(delivery_id: int, *, outbox: OutboxConfig, redis: Redis | None) -> str:
    """Claim, apply and mark one delivery: "done", "failed", "retry" or "skipped"."""
    route: TopicRoute | None = None
    row: dict[str, Any] | None = None
    try:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(_CLAIM, [delivery_id])
            if not rows:
                return "skipped"  # done already, or another worker holds it right now
            row = rows[0]
            route = TOPIC_ROUTES.get(row["topic"])
            if route is None:  # a route removed between deploys: nothing handles it now
                await conn.execute_query(_DONE, [delivery_id, "ignored", None])
                return "ignored"
            if row["payload"] is None:
                raise PayloadError("the payload is gone (purged after its retention)")
            payload = _without_nul(orjson.loads(row["payload"]), row["payload"])
            await route.handler(row["topic"], row["shop_domain"], payload, delivery_meta(row))
            await conn.execute_query(_DONE, [delivery_id, DELIVERY_DONE, None])
    except Exception as e:
        if store_down(e) or row is None:
            raise
        permanent = isinstance(e, PayloadError) or (
            route is not None and isinstance(e, route.permanent)
        )
        state = await _record_failure(delivery_id, e, permanent=permanent, outbox=outbox)
        log.warning(
            "webhook delivery failed: %s",
            type(e).__name__,
            extra={
                "delivery_id": delivery_id,
                "topic": row["topic"],
                "shop": row["shop_domain"],
                "state": state,
            },
        )
        return "failed" if state == DELIVERY_FAILED else "retry"
    if route.changes_shop_data and row["shop_id"] is not None and redis is not None:
        # After the commit: no cached API page may show what the delivery replaced.
        await bump_version(redis, int(row["shop_id"]))
    return "done"


async def _record_failure(
    delivery_id: int, error: BaseException, *, permanent: bool, outbox: OutboxConfig
) -> str:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        _FAILED,
        [
            delivery_id,
            describe_error(error),
            permanent,
            outbox.max_attempts,
            outbox.retry_backoff_s,
            outbox.retry_backoff_max_s,
        ],
    )
    return str(rows[0]["state"]) if rows else DELIVERY_PENDING


# ------------------------------------------------------------------ registration


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """What to change so a shop's subscriptions are exactly the wanted ones."""

    create: tuple[str, ...]  # GraphQL topic enum values
    update: tuple[str, ...]  # subscription ids to point at the uri
    delete: tuple[str, ...]  # subscription ids

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan_subscriptions(
    existing: list[dict[str, Any]], *, topics: tuple[str, ...], uri: str
) -> SubscriptionPlan:
    """Keep one subscription per wanted topic at `uri`; fix or drop everything else."""
    wanted = {graphql_topic(t) for t in topics}
    kept: set[str] = set()
    update: list[str] = []
    delete: list[str] = []
    # Subscriptions already at the uri win; then one elsewhere is moved; the rest go.
    ordered = sorted(existing, key=lambda s: (s.get("uri") != uri, str(s.get("id"))))
    for subscription in ordered:
        topic, sub_id = str(subscription.get("topic")), str(subscription.get("id"))
        if topic not in wanted or topic in kept:
            delete.append(sub_id)
            continue
        kept.add(topic)
        if subscription.get("uri") != uri:
            update.append(sub_id)
    create = tuple(sorted(wanted - kept))
    return SubscriptionPlan(create=create, update=tuple(update), delete=tuple(delete))


@dramatiq.actor(
    queue_name="shops",
    max_retries=5,
    time_limit=120_000,
    throws=(ShopTokenError, ShopifyAuthError),
)
async def register_webhooks(shop: str) -> None:
    """Make the shop's webhook subscriptions match SUBSCRIBED_TOPICS at APP_URL/webhooks."""
    res = resources()
    await sync_subscriptions(res.services, shop=shop, app_url=res.config.app.url)


async def sync_subscriptions(
    services: ShopifyServices, *, shop: str, app_url: str
) -> SubscriptionPlan:
    """List the shop's subscriptions and apply the plan; returns what it changed."""
    client = services.shopify
    creds = await services.credentials(shop)
    uri = f"{app_url}/webhooks"
    existing = await client.list_webhook_subscriptions(creds)
    plan = plan_subscriptions(existing, topics=SUBSCRIBED_TOPICS, uri=uri)
    for sub_id in plan.delete:
        await client.delete_webhook_subscription(creds, sub_id)
    for sub_id in plan.update:
        await client.update_webhook_subscription(creds, sub_id, uri=uri)
    for topic in plan.create:
        await client.create_webhook_subscription(creds, topic=topic, uri=uri)
    log.info(
        "webhook subscriptions in place",
        extra={
            "shop": shop,
            "subscriptions_created": len(plan.create),
            "subscriptions_updated": len(plan.update),
            "subscriptions_deleted": len(plan.delete),
        },
    )
    return plan
