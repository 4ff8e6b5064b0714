"""The OAuth query HMAC as Shopify's libraries compute it (install and callback, over HTTP).

Vectors come from tests/shopify_signing.py (Shopify's JS routine and Shopify's documented
algorithm, rewritten there), never from the code under test.
"""

from __future__ import annotations

import time

import pytest
from yarl import URL

from models import Shop
from tests.helpers import authorize
from tests.shopify_signing import (
    Query,
    documented_hmac,
    js_admin_hmac,
    locale_sorted,
    query_string,
)

SHOP = "query-store.myshopify.com"

# Values real merchants and Shopify send: the reserved characters, non-ASCII, spaces.
EXTRAS: list[dict[str, str | list[str]]] = [
    {"note": "fish & chips"},
    {"discount": "100% off"},
    {"filter": "a=1&b=2"},
    {"name": "Crème brûlée ☕ 東京"},
    {"ids": ["11", "22"]},
]
SIGNERS = {"js": js_admin_hmac, "documented": documented_hmac}


def _pairs(query: Query) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if isinstance(value, list):
            pairs += [(f"{key}[]", item) for item in value]
        else:
            pairs.append((key, value))
    return pairs


def _url(path: str, pairs: list[tuple[str, str]]) -> URL:
    return URL(f"{path}?{query_string(pairs)}", encoded=True)


def test_the_test_signers_follow_shopify_s_published_vectors():
    # shopify.dev's example: secret "hush", HMAC over code, shop, state, timestamp.
    query = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    expected = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    assert documented_hmac(query, "hush") == expected
    assert js_admin_hmac(query, "hush") == expected
    # JavaScript's localeCompare: letters before case, lower case first on a tie.
    assert locale_sorted(["b", "B", "a", "A", "a[]"]) == ["a", "A", "a[]", "b", "B"]


@pytest.mark.parametrize("signer", SIGNERS)
@pytest.mark.parametrize("extra", EXTRAS, ids=lambda e: next(iter(e)))
async def test_callbacks_signed_by_shopify_s_algorithms_install_the_shop(
    shop_client, shop_config, fake, signer, extra
):
    fake.add_shop(SHOP)
    query: Query = {**await authorize(shop_client, fake, SHOP), **extra}
    query.pop("hmac")
    query["hmac"] = SIGNERS[signer](query, shop_config.shopify.api_secret.reveal())
    response = await shop_client.get(_url("/auth/callback", _pairs(query)), allow_redirects=False)
    assert response.status == 302, await response.text()
    assert await Shop.filter(domain=SHOP, uninstalled_at=None).exists()


@pytest.mark.parametrize("signer", SIGNERS)
@pytest.mark.parametrize("extra", EXTRAS, ids=lambda e: next(iter(e)))
async def test_installs_signed_by_shopify_s_algorithms_start_oauth(
    shop_client, shop_config, signer, extra
):
    query: Query = {"shop": SHOP, "timestamp": str(int(time.time())), "host": "YWRtaW4", **extra}
    query["hmac"] = SIGNERS[signer](query, shop_config.shopify.api_secret.reveal())
    response = await shop_client.get(_url("/auth/install", _pairs(query)), allow_redirects=False)
    assert response.status == 302, await response.text()
    assert f"/{SHOP}/admin/oauth/authorize?" in response.headers["Location"]


@pytest.mark.parametrize("signer", SIGNERS)
async def test_a_parameter_smuggled_inside_a_value_is_refused(
    shop_client, shop_config, fake, signer
):
    fake.add_shop(SHOP)
    callback = await authorize(shop_client, fake, SHOP)
    signed: Query = {**callback, "a": "1", "b": "2"}
    signed.pop("hmac")
    digest = SIGNERS[signer](signed, shop_config.shopify.api_secret.reveal())
    # The same bytes as `a=1&b=2` once decoded naively, sent as the one parameter a.
    sent = [(k, v) for k, v in signed.items() if k not in {"a", "b"} and isinstance(v, str)]
    smuggled = f"{query_string(sent)}&a=1%26b%3D2&hmac={digest}"
    exchanges = len(fake.token_requests)
    response = await shop_client.get(
        URL(f"/auth/callback?{smuggled}", encoded=True), allow_redirects=False
    )
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert len(fake.token_requests) == exchanges  # the code was not exchanged
    assert not await Shop.filter(domain=SHOP).exists()
    # The honest form of the same query installs (the test can fail the other way).
    honest = f"{query_string(sent)}&a=1&b=2&hmac={digest}"
    response = await shop_client.get(
        URL(f"/auth/callback?{honest}", encoded=True), allow_redirects=False
    )
    assert response.status == 302


async def test_install_refuses_a_smuggled_parameter(shop_client, shop_config):
    query: Query = {"shop": SHOP, "timestamp": str(int(time.time())), "a": "1", "b": "2"}
    digest = js_admin_hmac(query, shop_config.shopify.api_secret.reveal())
    raw = f"shop={SHOP}&timestamp={query['timestamp']}&a=1%26b%3D2&hmac={digest}"
    response = await shop_client.get(URL(f"/auth/install?{raw}", encoded=True))
    assert response.status == 401


async def test_a_repeated_shop_is_refused_even_when_signed(shop_client, shop_config):
    query: Query = {"shop": [SHOP, "other-store.myshopify.com"], "timestamp": str(int(time.time()))}
    query["hmac"] = js_admin_hmac(query, shop_config.shopify.api_secret.reveal())
    pairs = [("shop", SHOP), ("shop", "other-store.myshopify.com")]
    pairs += [("timestamp", str(query["timestamp"])), ("hmac", str(query["hmac"]))]
    response = await shop_client.get(_url("/auth/install", pairs), allow_redirects=False)
    assert response.status == 401


async def test_a_value_changed_after_signing_is_refused(shop_client, shop_config):
    query: Query = {"shop": SHOP, "timestamp": str(int(time.time())), "note": "café"}
    query["hmac"] = js_admin_hmac(query, shop_config.shopify.api_secret.reveal())
    response = await shop_client.get(
        _url("/auth/install", _pairs({**query, "note": "cafe"})), allow_redirects=False
    )
    assert response.status == 401


@pytest.mark.parametrize("parsed_as", ["qs", "URLSearchParams"])
async def test_a_key_repeated_without_brackets_verifies_as_the_libraries_sign_it(
    shop_client, shop_config, parsed_as
):
    query: Query = {"shop": SHOP, "timestamp": str(int(time.time())), "tag": ["a&b", "c=d"]}
    secret = shop_config.shopify.api_secret.reveal()
    if parsed_as == "qs":  # a qs-parsed `tag=..&tag=..` is an array: the library writes tag[]
        digest = js_admin_hmac(query, secret)
    else:  # a URLSearchParams query: the library joins a repeated key's values with ","
        digest = js_admin_hmac({**query, "tag": "a&b,c=d"}, secret)
    pairs = [("shop", SHOP), ("timestamp", str(query["timestamp"]))]
    pairs += [("tag", "a&b"), ("tag", "c=d"), ("hmac", digest)]
    response = await shop_client.get(_url("/auth/install", pairs), allow_redirects=False)
    assert response.status == 302, await response.text()
