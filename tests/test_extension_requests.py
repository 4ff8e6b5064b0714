"""Checkout, customer-account and POS UI extensions calling `/ext/{path}` with session tokens.

Tokens are made here with PyJWT, with the claims Shopify documents for each surface.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

import jwt
import pytest

from server.ext.handlers import EXT_ROUTES, ExtensionRequest

SHOP = "ext-store.myshopify.com"
CUSTOMER = "gid://shopify/Customer/7212391247"
CDN = "https://extensions.shopifycdn.com"


@EXT_ROUTES.register(("POST", "test-echo"))
async def _echo(request: ExtensionRequest) -> dict[str, Any]:
    return {"shop": request.shop, "customer": request.customer, "body": request.body.decode()}


def _token(config, *, surface: str = "checkout", secret: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "aud": config.shopify.api_key,
        "exp": now + 300,
        "nbf": now,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    if surface == "checkout":  # no iss, the bare shop domain, sub only for a logged-in buyer
        payload["dest"] = SHOP
    elif surface == "customer-account":
        payload |= {"dest": SHOP, "sub": CUSTOMER}
    else:  # POS: shaped like the admin's, sub is the staff member
        payload |= {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "sub": "108"}
    payload |= claims
    return jwt.encode(payload, secret or config.shopify.api_secret.reveal(), algorithm="HS256")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Origin": CDN}


@pytest.mark.parametrize(
    ("surface", "customer"),
    [("checkout", None), ("customer-account", CUSTOMER), ("pos", None)],
)
async def test_ping_answers_the_shop_and_customer(client, config, surface, customer):
    response = await client.get("/ext/ping", headers=_auth(_token(config, surface=surface)))
    assert response.status == 200, await response.text()
    assert await response.json() == {"shop": SHOP, "customer": customer}
    assert response.headers["Access-Control-Allow-Origin"] == CDN


async def test_a_logged_in_buyer_at_checkout_is_the_customer(client, config):
    headers = _auth(_token(config, sub=CUSTOMER))
    assert (await (await client.get("/ext/ping", headers=headers)).json())["customer"] == CUSTOMER


async def test_the_handler_gets_the_body(client, config):
    response = await client.post(
        "/ext/test-echo", data=b'{"note": 1}', headers=_auth(_token(config, surface="pos"))
    )
    assert response.status == 200
    assert await response.json() == {"shop": SHOP, "customer": None, "body": '{"note": 1}'}


def _bad_tokens(config) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "missing": None,
        "other secret": _token(config, secret="not-the-secret-but-as-long-as-one-" * 2),
        "other app": _token(config, aud="another-app"),
        "expired": _token(config, exp=now - 60, nbf=now - 120, iat=now - 120),
        "not a shop": _token(config, dest="evil.example.com"),
        "iss for another shop": _token(config, iss="https://other-store.myshopify.com/admin"),
        "garbage": "not.a.jwt",
        "too long-lived": _token(config, exp=now + 86_400),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "other secret",
        "other app",
        "expired",
        "not a shop",
        "iss for another shop",
        "garbage",
        "too long-lived",
    ],
)
async def test_a_bad_token_is_401(client, config, case):
    token = _bad_tokens(config)[case]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/ext/ping", headers=headers)
    assert response.status == 401
    assert response.content_type == "application/problem+json"


async def test_an_unknown_route_is_404_once_the_token_verified(client, config):
    response = await client.get("/ext/nothing-here", headers=_auth(_token(config)))
    assert response.status == 404
    assert (await client.get("/ext/nothing-here")).status == 401


async def test_the_preflight_allows_shopify_s_extension_cdn_only(client):
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    }
    allowed = await client.options("/ext/ping", headers={**preflight, "Origin": CDN})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == CDN
    assert "AUTHORIZATION" in allowed.headers["Access-Control-Allow-Headers"].upper()
    refused = await client.options(
        "/ext/ping", headers={**preflight, "Origin": "https://evil.example.com"}
    )
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_the_limit_is_per_shop(make_client, make_config):
    config = make_config()
    config = replace(
        config, rate_limits=replace(config.rate_limits, ext_shop_per_s=1, ext_shop_burst=2)
    )
    client = await make_client(config)
    statuses = [
        (await client.get("/ext/ping", headers=_auth(_token(config)))).status for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    other = _token(config, dest="other-store.myshopify.com")
    assert (await client.get("/ext/ping", headers=_auth(other))).status == 200
