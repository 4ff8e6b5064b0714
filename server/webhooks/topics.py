"""The webhook flow's view of the topic table: GraphQL names, and which actor wakes.

The table itself is server/webhook_topics.py, filled by the flows that apply the topics.
"""

from __future__ import annotations

from collections.abc import Callable

from server.actor_names import PROCESS_LIFECYCLE_WEBHOOKS
from server.webhook_topics import TOPICS

# The actor of a topic nothing handles (never sent: such deliveries are stored as ignored).
DEFAULT_ACTOR = PROCESS_LIFECYCLE_WEBHOOKS


def graphql_topic(topic: str) -> str:
    """The GraphQL `WebhookSubscriptionTopic` value of a topic: orders/updated -> ORDERS_UPDATED."""
    return topic.upper().replace("/", "_")


def rest_topic(enum_value: str) -> str:
    """The header form of a GraphQL topic enum value, for the topics this app knows."""
    for topic in TOPICS:
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
