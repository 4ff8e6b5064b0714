"""Webhook registration: make a shop's subscriptions exactly SUBSCRIBED_TOPICS at APP_URL/webhooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from server.services import ShopifyServices
from server.webhooks.topics import SUBSCRIBED_TOPICS, graphql_topic

log = logging.getLogger(__name__)


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
