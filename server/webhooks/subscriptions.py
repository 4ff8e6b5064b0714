"""Webhook registration: make a shop's subscriptions exactly SUBSCRIBED_TOPICS at
APP_URL/webhooks, each with its topic's options (filter, include_fields,
metafield_namespaces); and the same subscriptions as `shopify.app.toml` declares them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.services import ShopifyServices
from server.webhook_topics import (
    NO_OPTIONS,
    SUBSCRIBED_TOPICS,
    SUBSCRIPTION_OPTIONS,
    SubscriptionOptions,
)
from server.webhooks.topics import graphql_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """What to change so a shop's subscriptions are exactly the wanted ones."""

    create: tuple[str, ...]  # GraphQL topic enum values
    update: tuple[str, ...]  # subscription ids to point at the uri (and give their options)
    delete: tuple[str, ...]  # subscription ids

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan_subscriptions(
    existing: list[dict[str, Any]],
    *,
    topics: Sequence[str],
    uri: str,
    options: Mapping[str, SubscriptionOptions] | None = None,
) -> SubscriptionPlan:
    """Keep one subscription per wanted topic at `uri` with its options; fix or drop the rest."""
    by_enum = {graphql_topic(t): (options or {}).get(t, NO_OPTIONS) for t in topics}
    kept: set[str] = set()
    update: list[str] = []
    delete: list[str] = []
    # Subscriptions already at the uri win; then one elsewhere is moved; the rest go.
    ordered = sorted(existing, key=lambda s: (s.get("uri") != uri, str(s.get("id"))))
    for subscription in ordered:
        topic, sub_id = str(subscription.get("topic")), str(subscription.get("id"))
        if topic not in by_enum or topic in kept:
            delete.append(sub_id)
            continue
        kept.add(topic)
        if subscription.get("uri") != uri or not by_enum[topic].matches(subscription):
            update.append(sub_id)
    create = tuple(sorted(set(by_enum) - kept))
    return SubscriptionPlan(create=create, update=tuple(update), delete=tuple(delete))


async def sync_subscriptions(
    services: ShopifyServices,
    *,
    shop: str,
    app_url: str,
    options: Mapping[str, SubscriptionOptions] = SUBSCRIPTION_OPTIONS,
) -> SubscriptionPlan:
    """List the shop's subscriptions and apply the plan; returns what it changed."""
    client = services.shopify
    creds = await services.credentials(shop)
    uri = f"{app_url}/webhooks"
    topics = tuple(SUBSCRIBED_TOPICS)
    existing = await client.list_webhook_subscriptions(creds)
    plan = plan_subscriptions(existing, topics=topics, uri=uri, options=options)
    by_enum = {graphql_topic(t): options.get(t, NO_OPTIONS) for t in topics}
    topic_of = {str(s.get("id")): str(s.get("topic")) for s in existing}
    for sub_id in plan.delete:
        await client.delete_webhook_subscription(creds, sub_id)
    for sub_id in plan.update:
        wanted = by_enum[topic_of[sub_id]]
        await client.update_webhook_subscription(
            creds, sub_id, uri=uri, options=wanted.graphql_input()
        )
    for topic in plan.create:
        await client.create_webhook_subscription(
            creds, topic=topic, uri=uri, options=by_enum[topic].graphql_input()
        )
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


class AppTomlError(ValueError):
    """A `[[webhooks.subscriptions]]` entry of shopify.app.toml is not what it should be."""


def app_toml_options(app_toml: Mapping[str, Any]) -> dict[str, SubscriptionOptions]:
    """Each topic's options as `shopify.app.toml` declares them (compliance topics aside).

    Keys of an entry: `topics`, `uri`, and optionally `filter` (a string), `include_fields`
    and `metafield_namespaces` (lists of strings), as Shopify CLI reads them.
    """
    found: dict[str, SubscriptionOptions] = {}
    for entry in app_toml.get("webhooks", {}).get("subscriptions", []):
        topics = entry.get("topics", [])
        filter_ = entry.get("filter")
        include = entry.get("include_fields", [])
        namespaces = entry.get("metafield_namespaces", [])
        if filter_ is not None and not isinstance(filter_, str):
            raise AppTomlError(f"filter of {topics} must be a string")
        for name, value in (("include_fields", include), ("metafield_namespaces", namespaces)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AppTomlError(f"{name} of {topics} must be a list of strings")
        for topic in topics:
            if topic in found:
                raise AppTomlError(f"{topic} is declared twice")
            found[topic] = SubscriptionOptions(
                filter=filter_ or None,
                include_fields=tuple(include),
                metafield_namespaces=tuple(namespaces),
            )
    return found
