"""Every webhook topic the app knows, in one place.

Used by the webhook endpoint (what to accept and route), the registration actor (what to
subscribe by API) and a test that checks `shopify.app.toml` against these lists.
"""

from __future__ import annotations

# Declared in shopify.app.toml (`compliance_topics`); Shopify offers no API to subscribe them.
COMPLIANCE_TOPICS: tuple[str, ...] = (
    "customers/data_request",
    "customers/redact",
    "shop/redact",
)

# The app's own lifecycle.
APP_TOPICS: tuple[str, ...] = ("app/uninstalled",)

# What the sync applies through `actors.sync.apply_data_change`.
DATA_TOPICS: tuple[str, ...] = (
    "products/create",
    "products/update",
    "products/delete",
    "orders/create",
    "orders/updated",
    "orders/delete",
    "customers/create",
    "customers/update",
    "customers/delete",
)

# Subscribed per shop by `webhookSubscriptionCreate` (and declared in shopify.app.toml).
SUBSCRIBED_TOPICS: tuple[str, ...] = APP_TOPICS + DATA_TOPICS

KNOWN_TOPICS: frozenset[str] = frozenset(COMPLIANCE_TOPICS + SUBSCRIBED_TOPICS)


def graphql_topic(topic: str) -> str:
    """The GraphQL `WebhookSubscriptionTopic` value of a topic: orders/updated -> ORDERS_UPDATED."""
    return topic.upper().replace("/", "_")


def rest_topic(enum_value: str) -> str:
    """The header form of a GraphQL topic enum value, for the topics this app knows."""
    for topic in KNOWN_TOPICS:
        if graphql_topic(topic) == enum_value:
            return topic
    return enum_value.lower()
