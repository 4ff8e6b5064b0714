"""Webhook subscription options through registration against the fake Shopify (which checks
every operation against the 2026-10 schema)."""

from __future__ import annotations

from server.web import keys
from server.webhook_topics import SUBSCRIBED_TOPICS, SUBSCRIPTION_OPTIONS, SubscriptionOptions
from server.webhooks.subscriptions import sync_subscriptions
from tests.helpers import bearer

SHOP = "options-store.myshopify.com"


def _products_update(fake) -> dict:
    [subscription] = [
        s for s in fake.shop(SHOP).webhooks.values() if s["topic"] == "PRODUCTS_UPDATE"
    ]
    return subscription


async def test_registration_sends_each_topics_options_and_keeps_them(
    shop_client, shop_config, fake
):
    fake.add_shop(SHOP, products=1, variants_per_product=1)
    response = await shop_client.post("/auth/token-exchange", headers=bearer(shop_config, SHOP))
    assert response.status == 200
    services = shop_client.app[keys.SERVICES]
    app_url = shop_config.app.url
    wanted = SubscriptionOptions(
        filter="vendor:Acme AND status:active",
        include_fields=("id", "title", "updated_at"),
        metafield_namespaces=("custom", "reviews"),
    )
    options = {**SUBSCRIPTION_OPTIONS, "products/update": wanted}

    first = await sync_subscriptions(services, shop=SHOP, app_url=app_url, options=options)
    assert len(first.create) == len(SUBSCRIBED_TOPICS)
    subscription = _products_update(fake)
    assert subscription["filter"] == wanted.filter
    assert subscription["includeFields"] == list(wanted.include_fields)
    assert subscription["metafieldNamespaces"] == list(wanted.metafield_namespaces)
    others = [s for s in fake.shop(SHOP).webhooks.values() if s["topic"] != "PRODUCTS_UPDATE"]
    assert all(not s["filter"] and not s["includeFields"] for s in others)

    # Listed back as they were asked for: nothing to do.
    again = await sync_subscriptions(services, shop=SHOP, app_url=app_url, options=options)
    assert again.empty

    # Options changed in the code: the one subscription is updated in place...
    narrower = SubscriptionOptions(filter="vendor:Acme", include_fields=("id",))
    changed = await sync_subscriptions(
        services, shop=SHOP, app_url=app_url, options={**options, "products/update": narrower}
    )
    assert changed.update == (subscription["id"],) and not changed.create
    assert _products_update(fake)["filter"] == "vendor:Acme"
    assert _products_update(fake)["includeFields"] == ["id"]
    assert _products_update(fake)["metafieldNamespaces"] == []

    # ...and dropping them clears them.
    cleared = await sync_subscriptions(services, shop=SHOP, app_url=app_url)
    assert cleared.update == (subscription["id"],)
    assert not _products_update(fake)["filter"] and not _products_update(fake)["includeFields"]
    assert (await sync_subscriptions(services, shop=SHOP, app_url=app_url)).empty
