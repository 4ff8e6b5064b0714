"""Merchant install: OAuth install/callback, token exchange, and session-token auth of /api/*."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import web

from models import Shop
from server.web import keys
from tests.helpers import authorize as _authorize
from tests.helpers import bearer, install_shop
from tests.shopify_signing import documented_hmac

SHOP = "acme-store.myshopify.com"


def _queued(stub_broker, actor_name: str) -> list[tuple]:
    import dramatiq

    messages = []
    for queue in stub_broker.queues.values():
        for raw in list(queue.queue):
            message = dramatiq.Message.decode(raw)
            if message.actor_name == actor_name:
                messages.append(message.args)
    return messages


def _resign(query: dict[str, str], secret: str) -> dict[str, str]:
    query = {k: v for k, v in query.items() if k != "hmac"}
    query["hmac"] = documented_hmac(query, secret)
    return query


# ---------------------------------------------------------------- install


async def test_install_redirects_to_authorize_with_a_nonce_cookie(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    response = await shop_client.get("/auth/install", params={"shop": SHOP}, allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{fake.base_url}/{SHOP}/admin/oauth/authorize"
    )
    params = dict(parse_qsl(location.query))
    assert params["client_id"] == shop_config.shopify.api_key
    assert params["scope"] == ",".join(shop_config.shopify.scopes)
    assert params["redirect_uri"] == "http://127.0.0.1:8080/auth/callback"
    assert len(params["state"]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert params["state"] not in cookie  # the nonce is inside the encrypted cookie only


async def test_session_cookie_is_secure_when_app_url_is_https(make_client, make_config, fake):
    client = await make_client(make_config(SHOPIFY_ADMIN_ORIGIN=fake.admin_origin))
    response = await client.get("/auth/install", params={"shop": SHOP}, allow_redirects=False)
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "",
        "-x.myshopify.com",
        "a_b.myshopify.com",
        "x.myshopify.com/evil",
        "EVIL.COM",
    ],
)
async def test_install_rejects_bad_shop_domains(shop_client, shop):
    response = await shop_client.get("/auth/install", params={"shop": shop}, allow_redirects=False)
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert "Set-Cookie" not in response.headers


async def test_install_lower_cases_the_shop(shop_client, fake):
    response = await shop_client.get(
        "/auth/install", params={"shop": "ACME-Store.MyShopify.com"}, allow_redirects=False
    )
    assert response.status == 302
    assert f"/{SHOP}/admin/oauth/authorize" in response.headers["Location"]


async def test_install_verifies_hmac_when_present(shop_client, shop_config):
    secret = shop_config.shopify.api_secret.reveal()
    params = {"shop": SHOP, "timestamp": str(int(time.time())), "host": "YWRtaW4"}
    good = {**params, "hmac": documented_hmac(params, secret)}
    assert (
        await shop_client.get("/auth/install", params=good, allow_redirects=False)
    ).status == 302
    bad = {**params, "hmac": "0" * 64}
    response = await shop_client.get("/auth/install", params=bad, allow_redirects=False)
    assert response.status == 401


# ---------------------------------------------------------------- callback


async def test_full_install_stores_encrypted_tokens_and_queues_follow_up(
    shop_client, shop_config, fake, stub_broker, database_url
):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    response = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert response.status == 302, await response.text()
    store = SHOP.split(".", maxsplit=1)[0]
    assert response.headers["Location"] == (
        f"https://admin.shopify.com/store/{store}/apps/{shop_config.shopify.api_key}"
    )
    shop = await Shop.get(domain=SHOP)
    assert shop.installed and not shop.needs_reauth
    assert shop.access_token_expires_at is not None and shop.refresh_token_expires_at is not None
    (exchange,) = [r for r in fake.token_requests if "code" in r]
    assert str(exchange["expiring"]) == "1"
    # Raw columns hold ciphertext only: no issued token appears in any column.
    issued = list(fake.tokens) + list(fake.refresh_tokens)
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        row = await connection.fetchrow("SELECT * FROM shops WHERE domain = $1", SHOP)
    finally:
        await connection.close()
    raw = " ".join(str(v) for v in row.values())
    assert issued and not any(token in raw for token in issued)
    assert row["access_token_enc"].startswith("gAAAAA")
    assert row["refresh_token_enc"].startswith("gAAAAA")
    assert _queued(stub_broker, "shop_installed") == [(SHOP,)]


async def test_callback_rejects_missing_and_bad_hmac(shop_client, fake):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    missing = {k: v for k, v in query.items() if k != "hmac"}
    assert (await shop_client.get("/auth/callback", params=missing)).status == 401
    bad = {**query, "hmac": "f" * 64}
    assert (await shop_client.get("/auth/callback", params=bad)).status == 401
    tampered = {**query, "shop": "other-store.myshopify.com"}
    assert (await shop_client.get("/auth/callback", params=tampered)).status == 401
    assert await Shop.filter(domain=SHOP).count() == 0


async def _assert_invalid_state(response) -> None:
    assert response.status == 400
    assert (await response.json(content_type=None))["title"] == "Invalid state"


async def test_callback_rejects_missing_and_mismatched_state(
    shop_client, shop_config, fake, aiohttp_client, make_client
):
    fake.add_shop(SHOP)
    secret = shop_config.shopify.api_secret.reveal()
    query = await _authorize(shop_client, fake, SHOP)
    wrong = _resign({**query, "state": "not-the-nonce"}, secret)
    await _assert_invalid_state(await shop_client.get("/auth/callback", params=wrong))
    # The nonce was spent by that failed attempt: the right one no longer works either.
    await _assert_invalid_state(await shop_client.get("/auth/callback", params=query))
    # A browser without the cookie (another client) has no state at all.
    stranger = await make_client(shop_config)
    query2 = await _authorize(shop_client, fake, SHOP)
    await _assert_invalid_state(await stranger.get("/auth/callback", params=query2))
    assert await Shop.filter(domain=SHOP).count() == 0


async def test_callback_replay_fails(shop_client, fake):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    cookies = {c.key: c.value for c in shop_client.session.cookie_jar}
    first = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert first.status == 302
    # Replay with the original cookie (as an attacker who copied it would).
    shop_client.session.cookie_jar.update_cookies(cookies)
    replay = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    await _assert_invalid_state(replay)


async def test_callback_rejects_stale_timestamp(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    secret = shop_config.shopify.api_secret.reveal()
    query = await _authorize(shop_client, fake, SHOP)
    stale = _resign({**query, "timestamp": str(int(time.time()) - 3600)}, secret)
    response = await shop_client.get("/auth/callback", params=stale)
    assert response.status == 400
    assert "too old" in (await response.json(content_type=None))["detail"]


async def test_callback_refuses_denied_scopes_and_stores_nothing(shop_client, fake, stub_broker):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    # The merchant's grant lacks read_customers (Shopify grants what the merchant allowed).
    fake.codes[query["code"]] = (SHOP, "read_products,read_orders,write_pixels")
    response = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert response.status == 400
    body = await response.json(content_type=None)
    assert body["missing"] == ["read_customers"]
    assert await Shop.filter(domain=SHOP).count() == 0
    assert _queued(stub_broker, "shop_installed") == []


async def test_write_scope_covers_requested_read_scope(shop_client, fake):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    fake.codes[query["code"]] = (SHOP, "write_products,read_orders,read_customers,write_pixels")
    response = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert response.status == 302


async def test_reinstall_after_uninstall_clears_the_mark(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    old = await install_shop(shop_config, SHOP)
    await Shop.filter(id=old.id).update(uninstalled_at=old.installed_at, needs_reauth=True)
    query = await _authorize(shop_client, fake, SHOP)
    response = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert response.status == 302
    shop = await Shop.get(domain=SHOP)
    assert shop.id == old.id
    assert shop.uninstalled_at is None and not shop.needs_reauth and shop.installed
    assert shop.installed_at > old.installed_at


async def test_bad_code_gives_clear_400(shop_client, fake):
    fake.add_shop(SHOP)
    query = await _authorize(shop_client, fake, SHOP)
    del fake.codes[query["code"]]
    response = await shop_client.get("/auth/callback", params=query)
    assert response.status == 400
    assert "authorization code" in (await response.json(content_type=None))["detail"]


async def test_host_param_that_is_not_this_shops_admin_is_ignored(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    secret = shop_config.shopify.api_secret.reveal()
    query = await _authorize(shop_client, fake, SHOP)
    evil_host = base64.b64encode(b"evil.example/admin").decode()
    query = _resign({**query, "host": evil_host}, secret)
    response = await shop_client.get("/auth/callback", params=query, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith(f"{fake.base_url}/{SHOP}/admin/apps/")


# ---------------------------------------------------------------- token exchange


async def test_token_exchange_stores_an_expiring_token(shop_client, shop_config, fake, stub_broker):
    fake.add_shop(SHOP)
    response = await shop_client.post("/auth/token-exchange", headers=bearer(shop_config, SHOP))
    assert response.status == 200, await response.text()
    assert (await response.json())["shop"] == SHOP
    (request,) = fake.token_requests
    assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert str(request["expiring"]) == "1"
    shop = await Shop.get(domain=SHOP)
    assert shop.installed and shop.refresh_token_enc and shop.access_token_expires_at
    assert _queued(stub_broker, "shop_installed") == [(SHOP,)]


async def test_token_exchange_needs_a_valid_session_token(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    for headers in ({}, bearer(shop_config, SHOP, secret="wrong-secret-" + "x" * 32)):
        response = await shop_client.post("/auth/token-exchange", headers=headers)
        assert response.status == 401
        assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert fake.token_requests == []


# ---------------------------------------------------------------- session-token auth


def _api_probe(app: web.Application) -> None:
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"shop": request[keys.SHOP].domain})

    app.router.add_get("/api/_whoami", whoami)


@pytest.fixture
async def api_client(make_client, shop_config):
    return await make_client(shop_config, setup=_api_probe)


async def test_api_gets_the_shop_from_a_valid_session_token(api_client, shop_config):
    await install_shop(shop_config, SHOP)
    response = await api_client.get("/api/_whoami", headers=bearer(shop_config, SHOP))
    assert response.status == 200
    assert await response.json() == {"shop": SHOP}


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"audience": "another-app"}, "aud"),
        ({"secret": "not-the-api-secret-" + "y" * 32}, "signature"),
        ({"exp_in_s": -60}, "expired"),
        ({"nbf_in_s": 60}, "not yet valid"),
        ({"iss_shop": "other-store.myshopify.com"}, "different shops"),
    ],
)
async def test_api_rejects_bad_session_tokens(api_client, shop_config, options, reason):
    await install_shop(shop_config, SHOP)
    response = await api_client.get("/api/_whoami", headers=bearer(shop_config, SHOP, **options))
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert reason in (await response.json(content_type=None))["detail"]


async def test_api_leeway_accepts_a_token_expired_seconds_ago(api_client, shop_config):
    await install_shop(shop_config, SHOP)
    headers = bearer(shop_config, SHOP, exp_in_s=-5, nbf_in_s=5)
    assert (await api_client.get("/api/_whoami", headers=headers)).status == 200


async def test_api_rejects_missing_token_and_uninstalled_shop(api_client, shop_config):
    assert (await api_client.get("/api/_whoami")).status == 401
    garbage = {"Authorization": "Bearer not.a.jwt"}
    assert (await api_client.get("/api/_whoami", headers=garbage)).status == 401
    # Valid token, but the shop never installed / uninstalled.
    response = await api_client.get("/api/_whoami", headers=bearer(shop_config, SHOP))
    assert response.status == 401
    shop = await install_shop(shop_config, SHOP)
    await Shop.filter(id=shop.id).update(uninstalled_at=shop.installed_at)
    response = await api_client.get("/api/_whoami", headers=bearer(shop_config, SHOP))
    assert response.status == 401
    assert "has not installed" in (await response.json(content_type=None))["detail"]


async def test_dest_must_be_a_valid_shop(api_client, shop_config):
    headers = bearer(shop_config, "evil.com")
    assert (await api_client.get("/api/_whoami", headers=headers)).status == 401
