"""The extension management API against the fake Shopify (webPixelCreate/Update/Delete)."""

from __future__ import annotations

import orjson

from models import WebPixel
from tests.helpers import bearer, install_shop
from tests.pixel_helpers import clear_rate_limits, envelope


async def _installed(fake, config) -> str:
    domain = f"ext-{id(fake) % 100000}-{len(fake.shops)}.myshopify.com"
    fake.add_shop(domain)
    await install_shop(config, domain, access_token=fake.issue_token(domain))
    return domain


async def test_activate_status_deactivate(shop_client, shop_config, fake, redis_client):
    await clear_rate_limits(redis_client)
    domain = await _installed(fake, shop_config)
    headers = bearer(shop_config, domain)

    body = await (await shop_client.get("/api/extension", headers=headers)).json()
    assert body["status"] == "not_created"

    response = await shop_client.post("/api/extension/activate", headers=headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "active" and body["web_pixel_id"]
    pixel = await WebPixel.get(shop__domain=domain)
    remote = fake.shop(domain).pixel
    assert remote is not None and remote["id"] == pixel.web_pixel_id
    # The pixel learns where to post from its settings: SHOPIFY_APP_URL + /pixel/events.
    assert orjson.loads(remote["settings"]) == {
        "accountID": pixel.ingest_key,
        "ingestUrl": "http://127.0.0.1:8080/pixel/events",
    }

    # Activating again updates the same pixel (webPixelUpdate), same key.
    response = await shop_client.post("/api/extension/activate", headers=headers)
    assert response.status == 200
    assert fake.shop(domain).pixel["id"] == pixel.web_pixel_id

    post = {"accountID": pixel.ingest_key, "events": [envelope()]}
    assert (await shop_client.post("/pixel/events", data=orjson.dumps(post))).status == 202

    response = await shop_client.post("/api/extension/deactivate", headers=headers)
    assert response.status == 200
    assert (await response.json())["status"] == "inactive"
    assert fake.shop(domain).pixel is None
    assert (await shop_client.post("/pixel/events", data=orjson.dumps(post))).status == 401


async def test_activation_recovers_a_pixel_shopify_lost(shop_client, shop_config, fake):
    domain = await _installed(fake, shop_config)
    headers = bearer(shop_config, domain)
    assert (await shop_client.post("/api/extension/activate", headers=headers)).status == 200
    # Shopify lost the pixel and someone else made one: create answers TAKEN, update NOT_FOUND.
    fake.shop(domain).pixel = {
        "__typename": "WebPixel",
        "id": "gid://shopify/WebPixel/1",
        "settings": "{}",
    }
    pixel = await WebPixel.get(shop__domain=domain)
    pixel.web_pixel_id = "gid://shopify/WebPixel/404"
    await pixel.save()
    response = await shop_client.post("/api/extension/activate", headers=headers)
    # Recovered: the existing pixel is found and updated with our settings.
    assert response.status == 200, await response.text()
    assert orjson.loads(fake.shop(domain).pixel["settings"])["accountID"] == pixel.ingest_key


async def test_management_needs_a_session_token(shop_client):
    for path in ("/api/extension", "/api/extension/activate", "/api/extension/deactivate"):
        method = shop_client.get if path == "/api/extension" else shop_client.post
        response = await method(path)
        assert response.status == 401
        assert response.content_type == "application/problem+json"


async def test_user_errors_come_back_as_problem_json(shop_client, shop_config, fake):
    domain = await _installed(fake, shop_config)
    fake.shop(domain).pixel_user_errors = [
        {
            "code": "INVALID_SETTINGS",
            "field": ["webPixel", "settings"],
            "message": "accountID does not match the extension's settings definition",
        }
    ]
    response = await shop_client.post(
        "/api/extension/activate", headers=bearer(shop_config, domain)
    )
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert "accountID does not match" in body["detail"]
    assert fake.shop(domain).pixel is None
    status = await (
        await shop_client.get("/api/extension", headers=bearer(shop_config, domain))
    ).json()
    assert status["status"] != "active"


async def test_a_new_app_url_reaches_the_pixel_on_the_next_activation(
    shop_client, shop_config, fake
):
    """The app moved (new SHOPIFY_APP_URL): activating again rewrites the pixel's ingest URL
    with webPixelUpdate; no per-environment edit of the extension's source."""
    from models import Shop
    from server.pixel.extension import activate
    from server.shopify import ShopCredentials
    from server.web import keys

    domain = await _installed(fake, shop_config)
    headers = bearer(shop_config, domain)
    assert (await shop_client.post("/api/extension/activate", headers=headers)).status == 200
    first_id = fake.shop(domain).pixel["id"]

    shop = await Shop.get(domain=domain)
    creds = ShopCredentials(shop=domain, access_token=fake.issue_token(domain))
    shopify = shop_client.app[keys.SHOPIFY]
    await activate(shop, shopify=shopify, creds=creds, app_url="https://events.example.test/b/")
    remote = fake.shop(domain).pixel
    assert remote["id"] == first_id
    assert (
        orjson.loads(remote["settings"])["ingestUrl"]
        == "https://events.example.test/b/pixel/events"
    )


def test_the_fake_checks_settings_against_the_extension_definition():
    """Like Shopify, the fake refuses settings that do not match shopify.extension.toml."""
    from tests.fake_shopify.server import _matches_pixel_settings

    assert _matches_pixel_settings({"accountID": "k", "ingestUrl": "https://a.test/pixel/events"})
    assert not _matches_pixel_settings({"accountID": "k"})
    assert not _matches_pixel_settings({"accountID": "k", "ingestUrl": ""})
    assert not _matches_pixel_settings({"accountID": "k", "ingestUrl": "u", "extra": "x"})
