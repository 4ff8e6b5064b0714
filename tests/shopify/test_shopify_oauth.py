"""OAuth against the fake: authorize redirect, code, refresh and token-exchange grants."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import jwt
import pytest

from server.shopify import (
    InvalidGrantError,
    OAuthClient,
    OAuthError,
    ShopCredentials,
    ShopifyAuthError,
    ShopifyClient,
)
from tests.fake_shopify import FakeShopify, sign_query


@pytest.fixture
def oauth(http_session: aiohttp.ClientSession, fake_shopify: FakeShopify) -> OAuthClient:
    return OAuthClient(
        http_session,
        api_key=fake_shopify.api_key,
        api_secret=fake_shopify.api_secret,
        admin_origin=fake_shopify.admin_origin,
    )


async def _authorize(
    http_session: aiohttp.ClientSession, fake: FakeShopify, shop: str
) -> dict[str, str]:
    url = fake.admin_origin.format(shop=shop) + "/admin/oauth/authorize"
    params = {
        "client_id": fake.api_key,
        "scope": "read_products,read_orders",
        "redirect_uri": "https://app.example.com/auth/callback",
        "state": "nonce-123",
    }
    async with http_session.get(url, params=params, allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith("https://app.example.com/auth/callback?")
    return dict(parse_qsl(urlsplit(location).query))


async def test_authorize_redirects_with_a_valid_hmac(
    http_session: aiohttp.ClientSession, fake_shopify: FakeShopify, shop: str
) -> None:
    query = await _authorize(http_session, fake_shopify, shop)
    assert set(query) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert query["shop"] == shop and query["state"] == "nonce-123"
    assert query["hmac"] == sign_query(query, fake_shopify.api_secret)
    assert query["hmac"] != sign_query(query, "another-secret")
    assert fake_shopify.authorize_requests[0]["redirect_uri"].endswith("/auth/callback")


async def test_code_exchange_gives_an_expiring_token_that_works(
    http_session: aiohttp.ClientSession,
    fake_shopify: FakeShopify,
    shop: str,
    oauth: OAuthClient,
    shopify_client: ShopifyClient,
) -> None:
    code = (await _authorize(http_session, fake_shopify, shop))["code"]
    token = await oauth.exchange_code(shop, code)
    assert token.scope == "read_products,read_orders"
    assert token.expires_in == 3600
    assert token.refresh_token and token.refresh_token_expires_in
    assert token.access_token not in repr(token) and token.refresh_token not in repr(token)
    assert fake_shopify.token_requests[-1]["expiring"] == 1
    info = await shopify_client.shop_info(ShopCredentials(shop, token.access_token))
    assert info["myshopifyDomain"] == shop

    with pytest.raises(InvalidGrantError) as caught:  # codes are single-use
        await oauth.exchange_code(shop, code)
    assert caught.value.error == "invalid_request"


async def test_refresh_rotates_tokens(
    http_session: aiohttp.ClientSession,
    fake_shopify: FakeShopify,
    shop: str,
    oauth: OAuthClient,
    shopify_client: ShopifyClient,
) -> None:
    code = (await _authorize(http_session, fake_shopify, shop))["code"]
    first = await oauth.exchange_code(shop, code)
    assert first.refresh_token is not None
    second = await oauth.refresh(shop, first.refresh_token)
    assert second.access_token != first.access_token
    with pytest.raises(ShopifyAuthError):
        await shopify_client.shop_info(ShopCredentials(shop, first.access_token))
    await shopify_client.shop_info(ShopCredentials(shop, second.access_token))
    with pytest.raises(InvalidGrantError) as caught:
        await oauth.refresh(shop, first.refresh_token)
    assert caught.value.error == "invalid_grant"
    assert first.refresh_token not in str(caught.value)


def _session_token(fake: FakeShopify, shop: str, *, secret: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": fake.api_key,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": "j1",
        "sid": "s1",
    }
    return jwt.encode(claims, secret or fake.api_secret, algorithm="HS256")


async def test_token_exchange(fake_shopify: FakeShopify, shop: str, oauth: OAuthClient) -> None:
    token = await oauth.token_exchange(shop, _session_token(fake_shopify, shop))
    assert token.expires_in == 3600 and token.refresh_token
    request = fake_shopify.token_requests[-1]
    assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert request["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert request["requested_token_type"] == (
        "urn:shopify:params:oauth:token-type:offline-access-token"
    )
    with pytest.raises(InvalidGrantError) as caught:
        await oauth.token_exchange(
            shop, _session_token(fake_shopify, shop, secret="forged-secret-0123456789abcdef01234")
        )
    assert caught.value.error == "invalid_subject_token"


async def test_bad_client_secret_is_not_an_invalid_grant(
    http_session: aiohttp.ClientSession, fake_shopify: FakeShopify, shop: str
) -> None:
    client = OAuthClient(
        http_session,
        api_key=fake_shopify.api_key,
        api_secret="wrong-secret",
        admin_origin=fake_shopify.admin_origin,
    )
    with pytest.raises(OAuthError) as caught:
        await client.exchange_code(shop, "whatever")
    assert not isinstance(caught.value, InvalidGrantError)
    assert caught.value.error == "invalid_client" and caught.value.status == 400
    assert "wrong-secret" not in str(caught.value) and "wrong-secret" not in repr(client)
