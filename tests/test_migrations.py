"""Aerich owns the schema: the migrations build exactly what the models declare."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
from tortoise import Tortoise

from server.db import MIGRATIONS_DIR, tortoise_config


async def test_models_and_migrations_agree(tmp_path: Path, database_url: str):
    """Fails when a model changed without a migration (aerich would generate one)."""
    from aerich import Command

    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, location)
    command = Command(
        tortoise_config(database_url, pool_max=2), app="models", location=str(location)
    )
    await command.init(offline=True)
    try:
        generated = await command.migrate(name="drift", no_input=True, offline=True)
    finally:
        await Tortoise.close_connections()
    new_files = sorted(p.name for p in (location / "models").glob("*drift*"))
    assert not generated, f"models differ from migrations; aerich generated {new_files}"
    assert not new_files


async def test_fresh_database_has_the_migrated_schema(database_url: str):
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        tables = {
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        applied = [r["version"] for r in await connection.fetch("SELECT version FROM aerich")]
        unique = await connection.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'shops' AND indexdef LIKE "
            "'%UNIQUE%(domain)%'"
        )
    finally:
        await connection.close()
    assert {"shops", "aerich"} <= tables
    assert sorted(applied) == sorted(p.name for p in (MIGRATIONS_DIR / "models").glob("*.py"))
    assert unique == 1
