"""Webhook topic actors, the topic -> actor dispatch table, and subscription registration."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.privacy import customers_data_request, customers_redact, requested_at, shop_redact
from actors.resources import resources
from actors.sync import apply_data_webhook
from actors.uninstall import UNINSTALL_STEPS, revoke_shop_access
from server.services import ShopifyServices
from server.shopify.errors import ShopifyAuthError
from server.shops import ShopTokenError
from server.webhook_topics import DATA_TOPICS, SUBSCRIBED_TOPICS, graphql_topic

log = logging.getLogger(__name__)

WEBHOOKS_QUEUE = "webhooks"


@dramatiq.actor(queue_name=WEBHOOKS_QUEUE, max_retries=10, time_limit=60_000)
async def app_uninstalled(
    topic: str, shop: str, payload: dict[str, Any], delivery: dict[str, Any] | None = None
) -> None:
    """app/uninstalled: every UNINSTALL_STEPS step, unless the shop reinstalled since."""
    await uninstall_shop(shop, delivery)


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
    """Where a topic's deliveries go; `with_delivery` passes the delivery's metadata too."""

    actor: dramatiq.Actor[Any, Any]
    with_delivery: bool = False


# Every topic the endpoint hands to an actor; anything else is recorded and ignored.
TOPIC_ROUTES: dict[str, TopicRoute] = {
    # products/*, orders/*, customers/*: the sync keeps its rows fresh from these.
    **{topic: TopicRoute(apply_data_webhook) for topic in DATA_TOPICS},
    "app/uninstalled": TopicRoute(app_uninstalled, with_delivery=True),
    "customers/data_request": TopicRoute(customers_data_request, with_delivery=True),
    "customers/redact": TopicRoute(customers_redact, with_delivery=True),
    "shop/redact": TopicRoute(shop_redact, with_delivery=True),
}


@dramatiq.actor(queue_name=WEBHOOKS_QUEUE, max_retries=10, time_limit=60_000)
def dispatch_webhooks(messages: list[dict[str, Any]]) -> None:
    """Fan one group commit of deliveries out to their topic actors.

    The web process sends one message per flush (see server/webhooks.py) so a burst of
    deliveries costs one broker round trip; here each goes to its topic's queue. A retry
    after a partial fan-out sends some again: every topic actor is idempotent.
    """
    for message in messages:
        route = TOPIC_ROUTES.get(message["topic"])
        if route is None:  # a route removed between deploys: nothing handles it now
            log.warning("no route for queued topic %s", message["topic"])
            continue
        args = (message["topic"], message["shop"], message["payload"])
        if route.with_delivery:
            route.actor.send(*args, delivery=message["delivery"])
        else:
            route.actor.send(*args)


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
