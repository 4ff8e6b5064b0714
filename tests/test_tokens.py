"""Tokens: one refresh under concurrency, refresh failures, key rotation, legacy plaintext."""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from cryptography.fernet import Fernet

from models import Shop
from server.config import Secret
from server.db import MIGRATIONS_DIR, apply_migrations
from server.logs import JsonFormatter
from server.security.crypto import TokenCipher
from server.shopify.client import ShopCredentials
from server.shops.tokens import ReauthRequiredError, ShopNotInstalledError, TokenRefreshError
from server.web import keys
from tests.helpers import bearer, install_shop, run_cli

ROOT = Path(__file__).resolve().parent.parent
SHOP = "acme-store.myshopify.com"


def _refreshes(fake) -> list[dict]:
    return [r for r in fake.token_requests if r.get("grant_type") == "refresh_token"]


async def _exchange(client, config) -> None:
    response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
    assert response.status == 200, await response.text()


async def _near_expiry(minutes: float = 1.0) -> None:
    await Shop.filter(domain=SHOP).update(
        access_token_expires_at=datetime.now(UTC) + timedelta(minutes=minutes)
    )


async def test_ten_concurrent_callers_cause_exactly_one_refresh(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    await _exchange(shop_client, shop_config)
    tokens = shop_client.app[keys.SHOP_TOKENS]
    old = await tokens.access_token(SHOP)
    await _near_expiry()
    results = await asyncio.gather(*(tokens.access_token(SHOP) for _ in range(10)))
    assert len(_refreshes(fake)) == 1
    assert len(set(results)) == 1 and results[0] != old
    # The new pair was stored before use, and the new token works against the API.
    shop = await Shop.get(domain=SHOP)
    assert shop.access_token_expires_at - datetime.now(UTC) > timedelta(minutes=30)
    assert await tokens.access_token(SHOP) == results[0]
    info = await shop_client.app[keys.SHOPIFY].shop_info(ShopCredentials(SHOP, results[0]))
    assert info["myshopifyDomain"]


async def test_refresh_across_two_processes_worth_of_stores_is_still_one(
    shop_client, shop_config, fake, make_client
):
    """Two apps (separate local locks, one Redis): the Redis lock keeps it to one refresh."""
    fake.add_shop(SHOP)
    await _exchange(shop_client, shop_config)
    other = await make_client(shop_config)
    await _near_expiry()
    a, b = shop_client.app[keys.SHOP_TOKENS], other.app[keys.SHOP_TOKENS]
    results = await asyncio.gather(*(t.access_token(SHOP) for t in [a, b] * 5))
    assert len(set(results)) == 1
    assert len(_refreshes(fake)) == 1


async def test_fresh_and_legacy_tokens_need_no_refresh(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    await install_shop(shop_config, SHOP, access_token="shpat_legacy_non_expiring_token")
    tokens = shop_client.app[keys.SHOP_TOKENS]
    assert await tokens.access_token(SHOP) == "shpat_legacy_non_expiring_token"
    assert fake.token_requests == []


async def test_refused_refresh_marks_the_shop_for_reauth(shop_client, shop_config, fake):
    fake.add_shop(SHOP)
    await _exchange(shop_client, shop_config)
    fake.revoke_tokens(SHOP)
    await _near_expiry()
    tokens = shop_client.app[keys.SHOP_TOKENS]
    with pytest.raises(ReauthRequiredError):
        await tokens.access_token(SHOP)
    shop = await Shop.get(domain=SHOP)
    assert shop.needs_reauth
    # Still the old (encrypted) token: nothing half-written.
    assert shop.access_token_enc and shop.refresh_token_enc
    calls = len(fake.token_requests)
    with pytest.raises(ReauthRequiredError):
        await tokens.access_token(SHOP)
    assert len(fake.token_requests) == calls  # no second try against Shopify


async def test_unreachable_token_endpoint_is_transient_not_reauth(
    make_client, make_config, fake, shop_config, shop_client
):
    fake.add_shop(SHOP)
    await _exchange(shop_client, shop_config)
    await _near_expiry()
    from server.embedded import free_port

    dead = make_config(SHOPIFY_ADMIN_ORIGIN=f"http://127.0.0.1:{free_port()}/{{shop}}")
    client = await make_client(dead)
    with pytest.raises(TokenRefreshError):
        await client.app[keys.SHOP_TOKENS].access_token(SHOP)
    assert not (await Shop.get(domain=SHOP)).needs_reauth


async def test_uninstalled_or_unknown_shop_has_no_token(shop_client, shop_config):
    tokens = shop_client.app[keys.SHOP_TOKENS]
    with pytest.raises(ShopNotInstalledError):
        await tokens.access_token("nobody.myshopify.com")
    shop = await install_shop(shop_config, SHOP)
    await Shop.filter(id=shop.id).update(uninstalled_at=shop.installed_at)
    with pytest.raises(ShopNotInstalledError):
        await tokens.access_token(SHOP)


async def test_no_secret_reaches_any_log_line(shop_client, shop_config, fake, tmp_path):
    """Install, token exchange and refresh, with our JSON formatter on every record."""
    path = tmp_path / "run.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        fake.add_shop(SHOP)
        response = await shop_client.get(
            "/auth/install", params={"shop": SHOP}, allow_redirects=False
        )
        import aiohttp

        async with (
            aiohttp.ClientSession() as browser,
            browser.get(response.headers["Location"], allow_redirects=False) as r,
        ):
            callback = r.headers["Location"]
        query = urlsplit(callback).query
        assert (
            await shop_client.get(f"/auth/callback?{query}", allow_redirects=False)
        ).status == 302
        await _exchange(shop_client, shop_config)
        await _near_expiry()
        await shop_client.app[keys.SHOP_TOKENS].access_token(SHOP)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
    text = path.read_text()
    secrets = [
        shop_config.shopify.api_secret.reveal(),
        shop_config.security.session_secret.reveal(),
        *(k.reveal() for k in shop_config.security.token_encryption_keys),
        *fake.tokens,
        *fake.refresh_tokens,
    ]
    assert len(text.splitlines()) > 5
    leaked = [s for s in secrets if s in text]
    assert not leaked


# ---------------------------------------------------------------- rotation and legacy rows


async def _raw_tokens(database_url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await connection.fetch(
            "SELECT domain, access_token_enc, refresh_token_enc FROM shops ORDER BY domain"
        )
    finally:
        await connection.close()


async def test_rotate_keys_reencrypts_every_token_with_the_newest_key(
    make_config, base_env, clean_database
):
    old_key = base_env["TOKEN_ENCRYPTION_KEYS"]
    config = make_config()
    from server.db import close_db, init_db

    await init_db(config)
    try:
        for i in range(3):
            await install_shop(
                config,
                f"shop-{i}.myshopify.com",
                access_token=f"shpat_t{i}",
                refresh_token=f"shprt_r{i}",
                expires_in_s=3600,
            )
        # A legacy row with plaintext tokens.
        await Shop.create(
            domain="legacy.myshopify.com",
            access_token_enc="shpat_plain",
            installed_at=datetime.now(UTC),
        )
    finally:
        await close_db()
    new_key = Fernet.generate_key().decode()
    env = {**base_env, "TOKEN_ENCRYPTION_KEYS": f"{new_key},{old_key}"}
    result = run_cli("rotate-keys", env=env)
    assert result.returncode == 0, result.stderr
    newest_only = TokenCipher([Secret(new_key)])
    rows = await _raw_tokens(clean_database)
    assert len(rows) == 4
    for row in rows:
        plain = newest_only.decrypt(row["access_token_enc"])
        assert plain.startswith("shpat_")
        assert "shpat_" not in row["access_token_enc"]
        if row["refresh_token_enc"]:
            assert newest_only.decrypt(row["refresh_token_enc"]).startswith("shprt_")
    assert newest_only.decrypt(rows[0]["access_token_enc"]) == "shpat_plain"
    # Running it again changes nothing.
    again = run_cli("rotate-keys", env=env)
    assert again.returncode == 0
    assert await _raw_tokens(clean_database) == rows


@pytest.mark.slow  # migrates a database of its own
async def test_data_migration_encrypts_legacy_plaintext_rows(
    store_servers, tmp_path, monkeypatch, secrets_env
):
    server_url, _ = store_servers
    name = f"test_legacy_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        # The schema as it was before migration 1: only the initial migration.
        first_only = tmp_path / "migrations"
        (first_only / "models").mkdir(parents=True)
        initial = sorted((MIGRATIONS_DIR / "models").glob("0_*.py"))[0]
        shutil.copy(initial, first_only / "models" / initial.name)
        await apply_migrations(url, location=first_only)
        db = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            await db.execute(
                "INSERT INTO shops (domain, access_token_enc, refresh_token_enc, scopes, "
                "needs_reauth, created_at, updated_at) VALUES ('old.myshopify.com', "
                "'shpat_plaintext_token', 'shprt_plaintext_refresh', '', false, now(), now())"
            )
        finally:
            await db.close()
        monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", secrets_env["TOKEN_ENCRYPTION_KEYS"])
        monkeypatch.setenv("APP_ENV", "production")
        for key in ("SHOPIFY_API_SECRET", "SESSION_SECRET"):
            monkeypatch.setenv(key, secrets_env[key])
        await apply_migrations(url)
        (row,) = await _raw_tokens(url)
        cipher = TokenCipher([Secret(secrets_env["TOKEN_ENCRYPTION_KEYS"])])
        assert row["access_token_enc"].startswith("gAAAAA")
        assert cipher.decrypt(row["access_token_enc"]) == "shpat_plaintext_token"
        assert cipher.decrypt(row["refresh_token_enc"]) == "shprt_plaintext_refresh"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
