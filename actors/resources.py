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


async def open_resources(config: Config) -> Pools:
    """Open this worker process's pools (server/services.py) on the running loop."""
    global _current
    _current = await open_pools(config)
    return _current


async def close_resources() -> None:
    """Close what open_resources opened."""
    global _current
    current, _current = _current, None
    await close_pools(current)
