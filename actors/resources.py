"""The pools a worker process holds: opened after boot, closed before shutdown."""

from __future__ import annotations

from server.config import Config
from server.services import Pools, close_pools, open_pools

_current: Pools | None = None


def resources() -> Pools:
    """The running worker's pools; raises if the worker has not booted them."""
    if _current is None:
        raise RuntimeError("worker resources are not open (is WorkerPools middleware installed?)")
    return _current


async def open_resources(config: Config, *, database: bool = True) -> Pools:
    """Open this worker process's pools (server/services.py) on the running loop.

    database=False leaves Tortoise to whoever opened it in this process (a test's in-process
    worker runs on the loop of the app under test, which holds the pool)."""
    global _current
    _current = await open_pools(config, database=database, role="worker")
    return _current


async def close_resources(*, database: bool = True) -> None:
    """Close what open_resources opened."""
    global _current
    current, _current = _current, None
    await close_pools(current, database=database)
