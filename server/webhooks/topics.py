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

from server.billing.state import (
    STATUS_TOPICS,
    BillingPayloadError,
    approaching_capped_amount,
    charge_status_updated,
)
from server.privacy.requests import customer_data_request, redact_customer, redact_shop
from server.shops.uninstall import uninstall_shop
from server.sync.changes import (
    DATA_TOPICS,
    PayloadError,
    UnknownTopicError,
    apply_data_change,
    apply_data_changes,
)
from server.webhooks.delivery import requested_at

# The actors that apply deliveries (declared in actors/webhooks.py), by name: a queue each.
PROCESS_WEBHOOKS = "process_webhooks"  # queue "webhooks"
PROCESS_PRIVACY = "process_privacy_webhooks"  # queue "privacy"
PROCESS_DATA = "process_data_webhooks"  # queue "sync"
# A shop's data deliveries while it floods (a bulk edit): a queue of their own, consumed
# beside the others, so one loud shop's backlog never stands in front of another shop's.
PROCESS_BUSY_DATA = "process_busy_data_webhooks"  # queue "sync_busy"

# (topic, shop, payload, delivery metadata)
Handler = Callable[[str, str, dict[str, Any], dict[str, Any]], Awaitable[None]]
# (the transaction's connection, the deliveries) -> the deliveries that failed on their own
BatchHandler = Callable[[Any, list[Any]], Awaitable[dict[int, Exception]]]


@dataclass(frozen=True, slots=True)
class SubscriptionOptions:
    """What a subscription asks Shopify to send (WebhookSubscriptionInput in 2026-10).

    `filter`: Shopify's search syntax; only events matching it are delivered.
    `include_fields`: only these payload fields are sent (empty: all of them).
    `metafield_namespaces`: metafields of these namespaces are added to the payload.
    The same values go into the topic's `[[webhooks.subscriptions]]` entry of
    `shopify.app.toml` (`filter`, `include_fields`, `metafield_namespaces`); a test checks
    the two agree.
    """

    filter: str | None = None
    include_fields: tuple[str, ...] = ()
    metafield_namespaces: tuple[str, ...] = ()

    def graphql_input(self) -> dict[str, Any]:
        """The option fields of a WebhookSubscriptionInput (empties clear what was set)."""
        return {
            "filter": self.filter or "",
            "includeFields": list(self.include_fields),
            "metafieldNamespaces": list(self.metafield_namespaces),
        }

    def matches(self, subscription: dict[str, Any]) -> bool:
        """Whether a listed subscription already has these options."""
        return (
            (subscription.get("filter") or None) == (self.filter or None)
            and sorted(subscription.get("includeFields") or []) == sorted(self.include_fields)
            and sorted(subscription.get("metafieldNamespaces") or [])
            == sorted(self.metafield_namespaces)
        )


NO_OPTIONS = SubscriptionOptions()


@dataclass(frozen=True, slots=True)
class Topic:
    """What applies a topic's deliveries, which actor wakes for them, how it is subscribed.

    `permanent`: errors no retry can fix (the delivery fails at once). `changes_shop_data`:
    cached API pages of the shop are invalidated once the effect is committed.
    `subscribed`: by `webhookSubscriptionCreate` per shop; the mandatory privacy topics are
    not (Shopify offers no API for them: `compliance_topics` in shopify.app.toml).
    `options`: the subscription's filter, include_fields and metafield_namespaces. None
    are set today: the data topics' handlers read whole payloads (an include_fields list
    must name every field server/sync/changes.py reads).
    `in_order`: the shop's lifecycle. A delivery of such a topic is applied only after every
    delivery of these topics the intake committed before it for the same shop (by row id),
    whichever queue's worker runs first: the worker applies a pending earlier one itself.
    """

    handler: Handler
    actor: str
    subscribed: bool = True
    permanent: tuple[type[Exception], ...] = ()
    changes_shop_data: bool = False
    # Applies many deliveries of the topic in one transaction (server/webhooks/processing.py).
    batch: BatchHandler | None = None
    # The actor of a busy shop's deliveries of this topic (see BUSY_SHOP_PER_S).
    busy_actor: str | None = None
    options: SubscriptionOptions = NO_OPTIONS
    in_order: bool = False


async def _data_change(topic: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await apply_data_change(topic, shop, payload, at=requested_at(d))


async def _uninstalled(_t: str, shop: str, _p: dict[str, Any], delivery: dict[str, Any]) -> None:
    await uninstall_shop(shop, delivery)


async def _data_request(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await customer_data_request(shop, payload, d)


async def _customer_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_customer(shop, payload, d)


async def _shop_redact(_t: str, shop: str, payload: dict[str, Any], d: dict[str, Any]) -> None:
    await redact_shop(shop, payload, d)


async def _billing(topic: str, shop: str, payload: dict[str, Any], _d: dict[str, Any]) -> None:
    if topic in STATUS_TOPICS:
        await charge_status_updated(topic, shop, payload)
    else:
        await approaching_capped_amount(shop, payload)


TOPICS: dict[str, Topic] = {
    # The app's own lifecycle.
    "app/uninstalled": Topic(_uninstalled, PROCESS_WEBHOOKS, in_order=True),
    # Billing: the charges' status (server/billing/state.py).
    **{
        topic: Topic(_billing, PROCESS_WEBHOOKS, permanent=(BillingPayloadError,))
        for topic in (*STATUS_TOPICS, "app_subscriptions/approaching_capped_amount")
    },
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
            batch=apply_data_changes,
            busy_actor=PROCESS_BUSY_DATA,
        )
        for topic in DATA_TOPICS
    },
}

COMPLIANCE_TOPICS: tuple[str, ...] = tuple(t for t, row in TOPICS.items() if not row.subscribed)
SUBSCRIBED_TOPICS: tuple[str, ...] = tuple(t for t, row in TOPICS.items() if row.subscribed)
KNOWN_TOPICS: frozenset[str] = frozenset(TOPICS)
# What registration asks of each subscribed topic.
SUBSCRIPTION_OPTIONS: dict[str, SubscriptionOptions] = {
    t: row.options for t, row in TOPICS.items() if row.subscribed
}
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


def group_by_actor(
    rows: list[tuple[int, str]], *, busy: Callable[[int], bool] = lambda _i: False
) -> dict[str, list[int]]:
    """(delivery id, topic) pairs grouped by the name of the actor that wakes for them;
    `busy(delivery id)`: whether its shop floods now (its topic's busy actor, if any)."""
    groups: dict[str, list[int]] = {}
    for delivery_id, topic in rows:
        row = TOPICS.get(topic)
        if row is None:
            actor = DEFAULT_ACTOR
        elif row.busy_actor is not None and busy(delivery_id):
            actor = row.busy_actor
        else:
            actor = row.actor
        groups.setdefault(actor, []).append(delivery_id)
    return groups


# A shop whose deliveries of topics with a busy actor come faster than this (in one web
# process) is busy for the next second: they wake the busy actor.
BUSY_SHOP_PER_S = 50


class BusyShops:
    """Deliveries per shop in the current second, and the shops over BUSY_SHOP_PER_S in
    this one or the last (one web process's view; counted at each flush)."""

    def __init__(self, *, per_s: int = BUSY_SHOP_PER_S) -> None:
        self.per_s = per_s
        self._second = 0
        self._counts: dict[str, int] = {}
        self._busy: set[str] = set()

    def count(self, shops: list[str], *, now_s: float) -> set[str]:
        """Count a flush's deliveries (their shops); the shops busy now."""
        second = int(now_s)
        if second != self._second:
            self._busy = {s for s, n in self._counts.items() if n > self.per_s}
            if second != self._second + 1:
                self._busy = set()
            self._second, self._counts = second, {}
        counts = self._counts
        for shop in shops:
            counts[shop] = counts.get(shop, 0) + 1
        return self._busy | {s for s in set(shops) if counts[s] > self.per_s}
