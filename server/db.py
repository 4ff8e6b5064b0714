"""Tortoise ORM configuration and migrations (Aerich owns the schema)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from server.config import ROOT, Config

MODEL_MODULES = ["models", "aerich.models"]
MIGRATIONS_DIR = ROOT / "migrations"


# What each process calls its connections (pg_stat_activity.application_name), so an operator
# (and bench/run.py) tells the web processes' sessions from the workers' and the CLI's.
APPLICATION_NAMES = {"web": "shopify-app web", "worker": "shopify-app worker"}
DEFAULT_APPLICATION_NAME = "shopify-app cli"

# What must exist once the schema is migrated and that no migration can make once for all
# (the pixel's daily partitions: server/pixel/partitions.py). A flow appends its step at
# import; server/flows.py imports every flow.
AFTER_MIGRATIONS: list[Callable[[], Awaitable[None]]] = []


def dead_peer_settings(timeout_s: int) -> dict[str, str]:
    """Session settings with which PostgreSQL ends a session about `timeout_s` after its
    client's host went silent (power lost, network cut: no FIN ever arrives). Keepalive
    probes find a silent peer of an idle session (a third of the time idle, then three
    probes), TCP_USER_TIMEOUT one that leaves data unacknowledged (an answer sent to a
    client that is gone). Its open transaction is rolled back, so the rows it had claimed
    (`FOR UPDATE`) are free for another host's workers, and its slot of `max_connections`
    too. A live client's kernel acknowledges whatever its process does: a long query or a
    busy worker is never cut. 0: none (the server's or a pooler's own settings apply)."""
    if timeout_s <= 0:
        return {}
    return {
        "tcp_keepalives_idle": str(max(1, timeout_s // 3)),
        "tcp_keepalives_interval": str(max(1, timeout_s // 9)),
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": str(timeout_s * 1000),
    }


def tortoise_config(
    database_url: str,
    *,
    pool_min: int = 1,
    pool_max: int = 10,
    application_name: str = DEFAULT_APPLICATION_NAME,
    dead_peer_timeout_s: int | None = None,
) -> dict[str, Any]:
    """The Tortoise config dict for one PostgreSQL URL."""
    scheme = urlsplit(database_url).scheme
    if scheme == "postgresql":
        database_url = "postgres" + database_url[len("postgresql") :]
    connection = expand_db_url(database_url)
    connection["credentials"].update(
        minsize=pool_min, maxsize=pool_max, application_name=application_name
    )
    if dead_peer_timeout_s:
        connection["credentials"]["server_settings"] = dead_peer_settings(dead_peer_timeout_s)
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def config_for(config: Config, *, role: str = "") -> dict[str, Any]:
    """The Tortoise config dict for the app's config (`role`: web, worker, else the CLI)."""
    return tortoise_config(
        config.database.url,
        pool_min=config.database.pool_min,
        pool_max=config.database.pool_max,
        application_name=APPLICATION_NAMES.get(role, DEFAULT_APPLICATION_NAME),
        dead_peer_timeout_s=config.database.dead_peer_timeout_s,
    )


async def connect(config: Config, *, role: str, timeout_s: float) -> Any:
    """One asyncpg connection of its own (outside the pool), named like the pool's."""
    import asyncpg  # type: ignore[import-untyped]

    url = config.database.url
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    name = APPLICATION_NAMES.get(role, DEFAULT_APPLICATION_NAME)
    settings = {
        "application_name": name,
        **dead_peer_settings(config.database.dead_peer_timeout_s),
    }
    return await asyncpg.connect(url, timeout=timeout_s, server_settings=settings)


async def init_db(config: Config, *, role: str = "") -> None:
    """Open the pool; visible to every task and thread loop of this process."""
    # The global fallback makes the context visible to request tasks and to the
    # Dramatiq event-loop thread, which do not inherit the init task's contextvars.
    await Tortoise.init(config=config_for(config, role=role), _enable_global_fallback=True)


async def close_db() -> None:
    """Close the pool."""
    await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def database(config: Config) -> AsyncIterator[None]:
    """The pool, open for the block (one-shot commands: the CLI, scripts, tests)."""
    await init_db(config)
    try:
        yield
    finally:
        await close_db()


async def apply_migrations(database_url: str, *, location: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending Aerich migration; returns the ones applied."""
    # Tortoise keeps its state in a contextvar: a context of its own keeps this run apart
    # from any Tortoise the caller has open (and lets callers migrate more than once).
    task = asyncio.get_running_loop().create_task(
        _apply_migrations(database_url, location), context=contextvars.Context()
    )
    return await task


async def _apply_migrations(database_url: str, location: Path) -> list[str]:
    from aerich import Command

    command = Command(
        tortoise_config(database_url, pool_max=2), app="models", location=str(location)
    )
    async with command:
        applied: list[str] = await command.upgrade(run_in_transaction=True)
        for step in AFTER_MIGRATIONS:
            await step()
    return applied


def __getattr__(name: str) -> Any:
    # For the `aerich` CLI only (pyproject's [tool.aerich]); the service passes Config around.
    if name == "TORTOISE_ORM":
        url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
        return tortoise_config(url)
    raise AttributeError(name)
