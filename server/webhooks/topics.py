"""Every webhook topic the app knows, in one table: what applies it and which actor wakes.

The endpoint stores a delivery for a worker when its topic is in TOPICS (anything else is
recorded as ignored); the worker runs the topic's handler (server/webhooks/processing.py);
registration subscribes SUBSCRIBED_TOPICS by API; a test checks `shopify.app.toml` against
these lists. To add a topic: a handler in its flow's domain module, one row here, and, if it
is subscribed by API, the same topic in `shopify.app.toml`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.privacy.requests import customer_data_request, redact_customer, redact_shop
from server.shops.uninstall import uninstall_shop
from server.sync.changes import DATA_TOPICS, PayloadError, UnknownTopicError, apply_data_change

# The actors that apply deliveries (declared in actors/webhooks.py), by name: a queue each.
PROCESS_WEBHOOKS = "process_webhooks"  # queue "webhooks"
PROCESS_PRIVACY = "process_privacy_webhooks"  # queue "privacy"
PROCESS_DATA = "process_data_webhooks"  # queue "sync"

# (topic, shop, payload, delivery metadata)
Handler = Callable[[str, str, dict[str, Any], dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Topic:
    """What applies a topic's deliveries, which actor wakes for them, how it is subscribed.

    `permanent`: errors no retry can fix (the delivery fails at once). `changes_shop_data`:
    cached API pages of the shop are invalidated once the effect is committed.
    `subscribed`: by `webhookSubscriptionCreate` per shop; the mandatory privacy topics are
    not (Shopify offers no API for them: `compliance_topics` in shopify.app.toml).
    `in_order`: the shop's lifecycle. A delivery of such a topic is applied only after every
    delivery of these topics the intake committed before it for the same shop (by row id),
    whichever queue's worker runs first: the worker applies a pending earlier one itself.
    """

    handler: Handler
    actor: str
    subscribed: bool = True
    permanent: tuple[type[Exception], ...] = ()
    changes_shop_data: bool = False
    in_order: bool = False


async def _data_change(topic: str, shop: str, payload: dict[str, Any], _d: dict[str, Any]) -> None:
    await apply_data_change(topic, shop, payload)


async def _uninstalled(_t: str, shop: str, _p: dict[str, Any], delivery: dict[str, Any]) -> None:
    await uninstall_shop(shop, delivery)


async def _data_request(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await customer_data_request(shop, payload, d)


async def _customer_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_customer(shop, payload, d)


async def _shop_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_shop(shop, payload, d)


TOPICS: dict[str, Topic] = {
    # The app's own lifecycle.
    "app/uninstalled": Topic(_uninstalled, PROCESS_WEBHOOKS, in_order=True),
    # The mandatory privacy topics.
    "customers/data_request": Topic(_data_request, PROCESS_PRIVACY, subscribed=False),
    "customers/redact": Topic(
        _customer_redact, PROCESS_PRIVACY, subscribed=False, changes_shop_data=True
    ),
    "shop/redact": Topic(_shop_redact, PROCESS_PRIVACY, subscribed=False, in_order=True),
    # products/*, orders/*, customers/*: the sync keeps its rows fresh from these.
    **{
        topic: Topic(
            _data_change,
            PROCESS_DATA,
            permanent=(PayloadError, UnknownTopicError),
            changes_shop_data=True,
        )
        for topic in DATA_TOPICS
    },
}

COMPLIANCE_TOPICS: tuple[str, ...] = tuple(t for t, row in TOPICS.items() if not row.subscribed)
SUBSCRIBED_TOPICS: tuple[str, ...] = tuple(t for t, row in TOPICS.items() if row.subscribed)
KNOWN_TOPICS: frozenset[str] = frozenset(TOPICS)
IN_ORDER_TOPICS: tuple[str, ...] = tuple(t for t, row in TOPICS.items() if row.in_order)
# The actor of a topic nothing handles (never sent: such deliveries are stored as ignored).
DEFAULT_ACTOR = PROCESS_WEBHOOKS


def graphql_topic(topic: str) -> str:
    """The GraphQL `WebhookSubscriptionTopic` value of a topic: orders/updated -> ORDERS_UPDATED."""
    return topic.upper().replace("/", "_")


def rest_topic(enum_value: str) -> str:
    """The header form of a GraphQL topic enum value, for the topics this app knows."""
    for topic in KNOWN_TOPICS:
        if graphql_topic(topic) == enum_value:
            return topic
    return enum_value.lower()


def group_by_actor(rows: list[tuple[int, str]]) -> dict[str, list[int]]:
    """(delivery id, topic) pairs grouped by the name of the actor that wakes for them."""
    groups: dict[str, list[int]] = {}
    for delivery_id, topic in rows:
        row = TOPICS.get(topic)
        groups.setdefault(row.actor if row else DEFAULT_ACTOR, []).append(delivery_id)
    return groups
