"""Aerich owns the schema: the migrations build exactly what the models declare."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg

from server.db import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parent.parent


def test_models_and_migrations_agree(tmp_path: Path, database_url: str):
    """Fails when a model changed without a migration (aerich would generate one).

    In a process of its own: other tests register test-only models with Tortoise, which
    must not count as drift.
    """
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, location)
    script = f"""
import asyncio, sys
from aerich import Command
from tortoise import Tortoise
from server.db import tortoise_config

async def main():
    command = Command(tortoise_config({database_url!r}, pool_max=2), app="models",
                      location={str(location)!r})
    await command.init(offline=True)
    try:
        generated = await command.migrate(name="drift", no_input=True, offline=True)
    finally:
        await Tortoise.close_connections()
    print(generated or "")

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    new_files = sorted(p.name for p in (location / "models").glob("*drift*"))
    assert not result.stdout.strip(), f"models differ from migrations; aerich made {new_files}"
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
