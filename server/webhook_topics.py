"""The webhook topic table: every flow registers the topics it applies.

A flow calls `register_topics` at import (sync: server/sync/changes.py; privacy:
server/privacy/requests.py; the shop's lifecycle: server/shops/uninstall.py; billing:
server/billing/state.py), and server/flows.py imports every flow, so the table is whole
before anything reads it. The webhook flow reads it: the endpoint stores a delivery for a
worker when its topic is in TOPICS (anything else is recorded as ignored), the worker runs
the topic's handler (server/webhooks/processing.py), registration subscribes
SUBSCRIBED_TOPICS by API, and a test checks `shopify.app.toml` against these lists. To add a
topic: its handler in its flow, registered here with the actor that wakes for it, and, if
it is subscribed by API, the same topic in `shopify.app.toml`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# (topic, shop, payload, delivery metadata: see requested_at)
Handler = Callable[[str, str, dict[str, Any], dict[str, Any]], Awaitable[None]]


class PayloadError(ValueError):
    """A payload that can never be applied (malformed, or purged after its retention): the
    delivery fails at once, no retry helps."""


@dataclass(frozen=True, slots=True)
class Change:
    """One stored delivery to apply in a batch: its id, topic, shop (None: not installed
    here), payload, and the time that orders it when the payload has none."""

    delivery_id: int
    topic: str
    shop_id: int | None
    payload: dict[str, Any]
    at: datetime


# (the transaction's connection, the deliveries) -> the deliveries that failed on their own
BatchHandler = Callable[[Any, list[Change]], Awaitable[dict[int, Exception]]]


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

    `actor`: a name of server/actor_names.py. `permanent`: errors no retry can fix (the
    delivery fails at once). `changes_shop_data`: cached API pages of the shop are
    invalidated once the effect is committed. `subscribed`: by `webhookSubscriptionCreate`
    per shop; the mandatory privacy topics are not (Shopify offers no API for them:
    `compliance_topics` in shopify.app.toml). `options`: the subscription's filter,
    include_fields and metafield_namespaces. None are set today: the data topics' handlers
    read whole payloads (an include_fields list must name every field
    server/sync/changes.py reads). `in_order`: the shop's lifecycle. A delivery of such a
    topic is applied only after every delivery of these topics the intake committed before
    it for the same shop (by row id), whichever queue's worker runs first: the worker
    applies a pending earlier one itself.
    """

    handler: Handler
    actor: str
    subscribed: bool = True
    permanent: tuple[type[Exception], ...] = ()
    changes_shop_data: bool = False
    # Applies many deliveries of the topic in one transaction (server/webhooks/processing.py).
    batch: BatchHandler | None = None
    # The actor of a busy shop's deliveries of this topic (server/webhooks/topics.py).
    busy_actor: str | None = None
    options: SubscriptionOptions = NO_OPTIONS
    in_order: bool = False


TOPICS: dict[str, Topic] = {}
# Views of TOPICS, kept by register_topics.
SUBSCRIBED_TOPICS: list[str] = []
COMPLIANCE_TOPICS: list[str] = []
IN_ORDER_TOPICS: list[str] = []
# What registration asks of each subscribed topic.
SUBSCRIPTION_OPTIONS: dict[str, SubscriptionOptions] = {}


def register_topics(rows: dict[str, Topic]) -> None:
    """Add a flow's topics to the table (at the flow module's import); a topic has one row."""
    for topic, row in rows.items():
        if topic in TOPICS:
            raise ValueError(f"webhook topic {topic!r} is registered twice")
        TOPICS[topic] = row
        if row.subscribed:
            SUBSCRIBED_TOPICS.append(topic)
            SUBSCRIPTION_OPTIONS[topic] = row.options
        else:
            COMPLIANCE_TOPICS.append(topic)
        if row.in_order:
            IN_ORDER_TOPICS.append(topic)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def requested_at(delivery: dict[str, Any] | None) -> datetime:
    """When Shopify triggered the delivery (else when we received it, else now); the
    metadata a handler gets is server/webhooks/delivery.py's `delivery_meta`."""
    delivery = delivery or {}
    return (
        _parse_time(delivery.get("triggered_at"))
        or _parse_time(delivery.get("received_at"))
        or datetime.now(UTC)
    )
