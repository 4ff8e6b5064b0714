"""`python -m server backup` / `restore`: a dump restored into a new database reads back the
same rows, and the app decrypts the same tokens with the same keys."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
import pytest

from models import PixelEvent, Product, Shop
from server.embedded import EmbeddedPostgres
from server.security.crypto import TokenCipher
from tests.helpers import embedded_base_dir, install_shop, run_cli
from tests.pixel_helpers import clear_rate_limits, envelope, pixel_shop, run_pixel_pipeline

# pg_dump and pg_restore processes
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every public table's rows, in a stable order."""
    connection = await asyncpg.connect(_pg(url))
    try:
        tables = [
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            t: sorted(tuple(r) for r in await connection.fetch(f'SELECT * FROM "{t}"'))  # noqa: S608
            for t in tables
        }
    finally:
        await connection.close()


async def _execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_pg(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _admin(url: str, sql: str) -> None:
    await _execute(url.rsplit("/", 1)[0] + "/postgres", sql)


async def test_backup_restores_into_a_new_database_with_the_same_rows_and_tokens(
    client, config, base_env, stub_worker, redis_client, tmp_path
):
    await clear_rate_limits(redis_client)
    cipher = TokenCipher(config.security.token_encryption_keys)
    token = f"shpat_{uuid.uuid4().hex}"
    shop = await install_shop(config, "backup-shop.myshopify.com", access_token=token)
    now = datetime.now(UTC)
    await Product.create(
        shop_id=shop.id, shopify_id=1, title="Kettle", updated_at=now, synced_at=now
    )
    pixel_owner, pixel = await pixel_shop(config)
    body = {"accountID": pixel.ingest_key, "events": [envelope(), envelope("product_viewed")]}
    assert (await client.post("/pixel/events", data=orjson.dumps(body))).status == 202
    await run_pixel_pipeline(stub_worker)
    assert await PixelEvent.filter(shop_id=pixel_owner.id).count() == 2

    dump = tmp_path / "app.dump"
    result = run_cli("backup", str(dump), env=base_env)
    assert result.returncode == 0, result.stderr
    assert dump.stat().st_size > 0

    server_url = base_env["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"restored_{uuid.uuid4().hex[:8]}"
    await _admin(server_url + "/x", f'CREATE DATABASE "{name}"')
    restored_url = f"{server_url}/{name}"
    try:
        result = run_cli("restore", str(dump), env={**base_env, "DATABASE_URL": restored_url})
        assert result.returncode == 0, result.stderr
        assert await _snapshot(restored_url) == await _snapshot(base_env["DATABASE_URL"])

        # The app's own models on the restored database: same shop, same token decrypted.
        from tortoise import Tortoise

        from server.db import tortoise_config

        await Tortoise.close_connections()
        await Tortoise.init(config=tortoise_config(restored_url, pool_max=2))
        try:
            restored = await Shop.get(domain="backup-shop.myshopify.com")
            assert cipher.decrypt(restored.access_token_enc) == token
            assert await Product.filter(shop_id=restored.id).count() == 1
            assert await PixelEvent.filter(shop_id=pixel_owner.id).count() == 2
        finally:
            await Tortoise.close_connections()

        # A second restore into a database that has tables is refused, changing nothing.
        again = run_cli("restore", str(dump), env={**base_env, "DATABASE_URL": restored_url})
        assert again.returncode == 1
        assert "already holds tables" in again.stderr
    finally:
        await _admin(server_url + "/x", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli_without_stores(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Not run_cli: it would add this run's DATABASE_URL back from os.environ.
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_backup_and_restore_of_the_embedded_store(secrets_env):
    """DATABASE_URL unset: the commands start the embedded PostgreSQL of VAR_DIR themselves."""
    from server.db import apply_migrations

    base = embedded_base_dir()
    source, target = base / "source", base / "target"
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BROKER_URL"}
    }
    env.update(secrets_env, APP_ENV="development")
    try:
        with EmbeddedPostgres(source) as pg:
            asyncio.run(apply_migrations(pg.url))
            asyncio.run(
                _execute(
                    pg.url,
                    "INSERT INTO shops (domain, scopes, access_token_enc, "
                    "installed_at, needs_reauth, created_at, updated_at) VALUES "
                    "('embedded.myshopify.com', 'read_products', 'x', now(), false, now(), now())",
                )
            )
            expected = asyncio.run(_snapshot(pg.url))
        dump = base / "embedded.dump"
        result = _cli_without_stores("backup", str(dump), env={**env, "VAR_DIR": str(source)})
        assert result.returncode == 0, result.stderr
        # A fresh VAR_DIR: restore makes its embedded cluster, then fills it.
        result = _cli_without_stores("restore", str(dump), env={**env, "VAR_DIR": str(target)})
        assert result.returncode == 0, result.stderr
        with EmbeddedPostgres(target) as pg:
            assert asyncio.run(_snapshot(pg.url)) == expected
    finally:
        shutil.rmtree(base, ignore_errors=True)
