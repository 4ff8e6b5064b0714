"""Staff and admin surface: online tokens, POST /api/graphql, deprecation notices.

Everything through HTTP against the fake Shopify; session tokens are signed here.
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from cryptography.fernet import Fernet

from models import OnlineToken, Shop
from server.config import Secret
from server.security.crypto import TokenCipher
from server.shopify.client import ShopCredentials
from server.web import keys
from tests.fake_shopify import Fault, WebhookSender
from tests.fake_shopify.oauth import ONLINE_TOKEN_TYPE, STAFF_SCOPE
from tests.helpers import bearer, eventually, install_shop, run_cli

SHOP = "staff-store.myshopify.com"
STAFF = "42"  # the session tokens' sub (tests/helpers.py)
SHOP_NAME = "query ShopName { shop { name } }"


@pytest.fixture(autouse=True)
def _own_shop(monkeypatch):
    """A shop of the test's own: the cost bucket and deprecation counts live in Redis."""
    shop = f"staff-{uuid.uuid4().hex[:8]}.myshopify.com"
    monkeypatch.setattr(sys.modules[__name__], "SHOP", shop)


def _online_requests(fake) -> list[dict]:
    return [r for r in fake.token_requests if r.get("requested_token_type") == ONLINE_TOKEN_TYPE]


async def _exchange(client, config, body=None, **token):
    return await client.post(
        "/auth/token-exchange",
        headers=bearer(config, SHOP, **token),
        data=orjson.dumps(body) if body is not None else None,
    )


async def _graphql(client, config, query, variables=None, **token):
    return await client.post(
        "/api/graphql",
        headers={**bearer(config, SHOP, **token), "Content-Type": "application/json"},
        data=orjson.dumps({"query": query, "variables": variables or {}}),
    )


# ------------------------------------------------------------------ online tokens


async def test_online_exchange_stores_the_staff_token_encrypted_with_shopify_expiry(
    shop_client, shop_config, fake
):
    fake.add_shop(SHOP)
    response = await _exchange(shop_client, shop_config, {"online": True})
    assert response.status == 200, await response.text()
    answer = await response.json()
    # A shop that had no offline token gets that first, then the staff member's.
    assert (await Shop.get(domain=SHOP)).access_token_enc
    assert answer["online"]["user_id"] == 42
    assert answer["online"]["scopes"] == STAFF_SCOPE.split(",")
    [request] = _online_requests(fake)
    assert request["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert "expiring" not in request  # online tokens expire on their own

    row = await OnlineToken.get(user_id=42)
    issued = [t for t, info in fake.tokens.items() if info.user_id == 42]
    assert len(issued) == 1
    cipher = TokenCipher(shop_config.security.token_encryption_keys)
    assert issued[0] not in row.access_token_enc
    assert cipher.decrypt(row.access_token_enc) == issued[0]
    expected_expiry = datetime.now(UTC) + timedelta(seconds=fake.online_token_ttl_s)
    assert abs((row.expires_at - expected_expiry).total_seconds()) < 30
    assert row.associated_user_scope == STAFF_SCOPE
    assert answer["online"]["expires_at"] == row.expires_at.isoformat()
    # What identifies the person beyond Shopify's user id is not kept.
    stored = await OnlineToken.filter(id=row.id).values()
    assert "staff42@example.com" not in str(stored) and "Staff" not in str(stored)

    # An installed shop: a second exchange (another staff member) asks only for the online
    # token, and the first staff member's row stays.
    offline_before = len(fake.token_requests) - 1
    again = await _exchange(shop_client, shop_config, {"online": True}, sub="7")
    assert again.status == 200
    assert len(fake.token_requests) == offline_before + 2
    assert await OnlineToken.filter(shop__domain=SHOP).count() == 2


async def test_the_setting_makes_online_the_default_and_the_body_can_say_otherwise(
    make_client, make_config, fake
):
    config = make_config(
        SHOPIFY_ADMIN_ORIGIN=fake.admin_origin,
        SHOPIFY_APP_URL="http://127.0.0.1:8080",
        SCOPES="read_products,read_orders,read_customers,write_pixels",
        SHOPIFY_ONLINE_TOKENS="true",
    )
    assert config.shopify.online_tokens
    client = await make_client(config)
    fake.add_shop(SHOP)
    response = await _exchange(client, config)
    assert response.status == 200
    assert "online" in await response.json()
    assert len(_online_requests(fake)) == 1
    offline_only = await _exchange(client, config, {"online": False})
    assert "online" not in await offline_only.json()
    assert len(_online_requests(fake)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 400), (b"[]", 400), (b'{"online": "yes"}', 400), (b"x" * 5000, 413)],
)
async def test_a_malformed_exchange_body_is_refused_and_stores_nothing(
    shop_client, shop_config, fake, body, status
):
    fake.add_shop(SHOP)
    response = await shop_client.post(
        "/auth/token-exchange", headers=bearer(shop_config, SHOP), data=body
    )
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert not fake.token_requests
    assert not await Shop.exists(domain=SHOP)


async def test_online_needs_a_staff_sub_and_a_valid_session_token(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    no_staff = await _exchange(shop_client, shop_config, {"online": True}, sub="gid://x/1")
    assert no_staff.status == 400
    forged = await _exchange(
        shop_client, shop_config, {"online": True}, secret="wrong-secret-wrong-secret-wrong-secret"
    )
    assert forged.status == 401
    assert forged.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert not fake.token_requests
    assert not await OnlineToken.exists()


# ------------------------------------------------------------------ the GraphQL proxy


async def _installed(shop_client, shop_config, fake, *, online: bool = False):
    fake.add_shop(SHOP, products=3)
    response = await _exchange(shop_client, shop_config, {"online": online})
    assert response.status == 200, await response.text()


async def test_the_proxy_acts_as_the_staff_member_when_it_has_their_token(
    shop_client, shop_config, fake
):
    await _installed(shop_client, shop_config, fake, online=True)
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.status == 200
    assert response.headers["X-Acting-As"] == "staff"
    body = await response.json()
    assert body["data"]["shop"]["name"] == fake.shop(SHOP).data.shop["name"]
    assert body["extensions"]["cost"]["actualQueryCost"] is not None
    assert fake.calls_for(SHOP)[-1].user_id == 42

    # Another staff member, who has no online token: the shop's offline token.
    other = await _graphql(shop_client, shop_config, SHOP_NAME, sub="7")
    assert other.status == 200 and other.headers["X-Acting-As"] == "app"
    assert fake.calls_for(SHOP)[-1].user_id is None


async def test_an_expired_online_token_falls_back_or_is_exchanged_again(
    make_client, make_config, shop_client, shop_config, fake
):
    await _installed(shop_client, shop_config, fake, online=True)
    await OnlineToken.filter(user_id=42).update(expires_at=datetime.now(UTC) + timedelta(seconds=5))
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.headers["X-Acting-As"] == "app"
    assert not await OnlineToken.exists(user_id=42)  # an expired token is forgotten

    # With shopify.online_tokens the proxy gets the staff member a token of their own.
    config = make_config(
        SHOPIFY_ADMIN_ORIGIN=fake.admin_origin,
        SHOPIFY_APP_URL="http://127.0.0.1:8080",
        SCOPES="read_products,read_orders,read_customers,write_pixels",
        SHOPIFY_ONLINE_TOKENS="true",
    )
    client = await make_client(config)
    exchanges = len(_online_requests(fake))
    response = await _graphql(client, config, SHOP_NAME)
    assert response.status == 200 and response.headers["X-Acting-As"] == "staff"
    assert len(_online_requests(fake)) == exchanges + 1
    assert fake.calls_for(SHOP)[-1].user_id == 42
    again = await _graphql(client, config, SHOP_NAME)
    assert again.headers["X-Acting-As"] == "staff"
    assert len(_online_requests(fake)) == exchanges + 1  # stored, not exchanged each time


async def test_shopify_errors_come_back_as_shopify_sent_them(shop_client, shop_config, fake):
    await _installed(shop_client, shop_config, fake)
    bad_field = "query Nope { shop { noSuchField } }"
    response = await _graphql(shop_client, shop_config, bad_field)
    assert response.status == 200
    body = await response.json()
    assert "data" not in body
    assert "noSuchField" in body["errors"][0]["message"]
    fake.invalid_operations.clear()  # sent on purpose

    # A mutation's userErrors too, and variables go through as given.
    mutation = (
        "mutation Sub($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {"
        " webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {"
        " webhookSubscription { id } userErrors { field message } } }"
    )
    response = await _graphql(
        shop_client,
        shop_config,
        mutation,
        {"topic": "ORDERS_CREATE", "sub": {"uri": "ftp://nowhere.example"}},
    )
    body = await response.json()
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"] == (
        "Address is invalid"
    )
    assert not fake.shop(SHOP).webhooks


async def test_shopify_throttled_is_passed_on_with_retry_after(shop_client, shop_config, fake):
    fake.add_shop(SHOP, bucket_max=5, restore_rate=1)
    assert (await _exchange(shop_client, shop_config)).status == 200
    query = "query Many { products(first: 50) { nodes { id title } } }"
    response = await _graphql(shop_client, shop_config, query)
    assert response.status == 200
    body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_spent_cost_budget_is_429_and_nothing_is_sent(shop_client, shop_config, fake):
    await _installed(shop_client, shop_config, fake)
    # Another caller (a sync worker, say) holds the shop's whole budget.
    bucket = shop_client.app[keys.SHOPIFY].bucket
    assert await bucket.reserve(SHOP, 2000, max_wait_s=100) == 0
    assert await bucket.reserve(SHOP, 2000, max_wait_s=100) is not None
    calls = len(fake.calls_for(SHOP))
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert len(fake.calls_for(SHOP)) == calls


async def test_shopify_down_is_503_and_a_rejected_staff_token_is_401(
    shop_client, shop_config, fake
):
    await _installed(shop_client, shop_config, fake, online=True)
    fake.inject(SHOP, Fault(status=502))
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.status == 503 and int(response.headers["Retry-After"]) >= 1
    assert response.content_type == "application/problem+json"

    for info in fake.tokens.values():
        if info.user_id == 42:
            info.revoked = True
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.status == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert not await OnlineToken.exists(user_id=42)
    # App Bridge's retry with a new session token: the offline token now.
    retry = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert retry.status == 200 and retry.headers["X-Acting-As"] == "app"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"query": 5}',
        b'{"query": ""}',
        b'{"query": "{ shop { name }"}',
        b'{"query": "{ shop { name } }", "variables": [1]}',
        b'{"query": "query A { shop { name } }", "operationName": "B"}',
        b'{"query": "fragment F on Shop { name }"}',
    ],
)
async def test_malformed_requests_are_400_and_reach_no_one(shop_client, shop_config, fake, body):
    await _installed(shop_client, shop_config, fake)
    calls = len(fake.calls_for(SHOP))
    response = await shop_client.post(
        "/api/graphql",
        headers={**bearer(shop_config, SHOP), "Content-Type": "application/json"},
        data=body,
    )
    assert response.status == 400
    assert (await response.json())["status"] == 400
    assert len(fake.calls_for(SHOP)) == calls


async def test_a_body_over_the_limit_is_413_and_a_bad_token_401(shop_client, shop_config, fake):
    await _installed(shop_client, shop_config, fake)
    limit = shop_config.limits.graphql_max_body_bytes
    big = orjson.dumps({"query": SHOP_NAME, "variables": {"pad": "x" * limit}})
    response = await shop_client.post(
        "/api/graphql",
        headers={**bearer(shop_config, SHOP), "Content-Type": "application/json"},
        data=big,
    )
    assert response.status == 413
    forged = await _graphql(
        shop_client, shop_config, SHOP_NAME, secret="not-the-secret-not-the-secret-not-the"
    )
    assert forged.status == 401
    assert forged.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


async def test_a_shop_whose_grant_is_gone_gets_403_reauthorize(shop_client, shop_config, fake):
    await _installed(shop_client, shop_config, fake)
    await Shop.filter(domain=SHOP).update(needs_reauth=True)
    response = await _graphql(shop_client, shop_config, SHOP_NAME)
    assert response.status == 403
    assert response.headers["X-Shopify-API-Request-Failure-Reauthorize"] == "1"


# ------------------------------------------------------------------ purge and rotation


async def test_uninstall_and_shop_redact_purge_online_tokens(
    shop_client, shop_config, fake, stub_worker
):
    await _installed(shop_client, shop_config, fake, online=True)
    assert await OnlineToken.exists(user_id=42)
    sender = WebhookSender(shop_client.session, secret=shop_config.shopify.api_secret.reveal())
    url = str(shop_client.make_url("/webhooks"))
    _, response = await sender.send(url, "app/uninstalled", SHOP, {"id": 1})
    assert response.status == 200

    async def purged() -> bool:
        await stub_worker.drain("webhooks")
        return not await OnlineToken.exists()

    await eventually(purged, what="online tokens dropped on uninstall")
    shop = await Shop.get(domain=SHOP)
    assert shop.uninstalled_at is not None and shop.access_token_enc is None

    # shop/redact: a row left behind (say, written after a reinstall) goes with the shop.
    await OnlineToken.create(
        shop=shop, user_id=9, access_token_enc="gAAAAAx", expires_at=datetime.now(UTC)
    )
    delivery = sender.event("shop/redact", SHOP, {"shop_domain": SHOP})
    delivery.triggered_at = (datetime.now(UTC) + timedelta(hours=48)).isoformat()
    assert (await sender.deliver(url, delivery)).status == 200

    async def redacted() -> bool:
        await stub_worker.drain("privacy")
        return not await OnlineToken.exists() and not await Shop.exists(domain=SHOP)

    await eventually(redacted, what="the shop redacted")


async def test_rotate_keys_reencrypts_online_tokens(make_config, base_env, clean_database):
    old_key = base_env["TOKEN_ENCRYPTION_KEYS"]
    config = make_config()
    from server.db import close_db, init_db

    await init_db(config)
    try:
        shop = await install_shop(config, SHOP)
        old = TokenCipher([Secret(old_key)])
        for user_id in (1, 2):
            await OnlineToken.create(
                shop=shop,
                user_id=user_id,
                access_token_enc=old.encrypt(f"shpua_{user_id}"),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        new_key = Fernet.generate_key().decode()
        result = run_cli(
            "rotate-keys", env={**base_env, "TOKEN_ENCRYPTION_KEYS": f"{new_key},{old_key}"}
        )
        assert result.returncode == 0, result.stderr
        newest = TokenCipher([Secret(new_key)])
        rows = await OnlineToken.all().order_by("user_id")
        assert [newest.decrypt(r.access_token_enc) for r in rows] == ["shpua_1", "shpua_2"]
    finally:
        await close_db()


# ------------------------------------------------------------------ deprecation notices


def _deprecated_count(exposition: str, operation: str) -> float | None:
    prefix = f'shopify_api_deprecated_calls_total{{operation="{operation}"}} '
    for line in exposition.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


async def test_deprecation_notices_are_counted_and_logged_once_per_operation_and_version(
    shop_client, shop_config, fake, caplog
):
    caplog.set_level(logging.WARNING, logger="server.shopify.deprecations")
    await _installed(shop_client, shop_config, fake)
    operation = f"Old{uuid.uuid4().hex[:8]}"
    query = f"query {operation} {{ products(first: 2) {{ nodes {{ id bodyHtml }} }} }}"
    for _ in range(3):
        response = await _graphql(shop_client, shop_config, query)
        assert response.status == 200
        assert "data" in await response.json()
        assert "bodyHtml" in response.headers["X-Shopify-API-Deprecated-Reason"]
    assert all(c.deprecated for c in fake.calls_for(SHOP)[-3:])
    # The app's own calls are watched the same way (here: a direct client call).
    creds = ShopCredentials(SHOP, await shop_client.app[keys.SHOP_TOKENS].access_token(SHOP))
    await shop_client.app[keys.SHOPIFY].query(creds, query)
    # A call without deprecated fields counts nothing.
    await _graphql(shop_client, shop_config, SHOP_NAME)

    metrics = await (await shop_client.get("/metrics")).text()
    assert _deprecated_count(metrics, operation) == 4
    assert _deprecated_count(metrics, "ShopName") is None
    lines = [r for r in caplog.records if operation in r.getMessage()]
    assert len(lines) == 1
    assert "Product.bodyHtml is deprecated" in lines[0].getMessage()
    assert shop_config.shopify.api_version in lines[0].getMessage()
