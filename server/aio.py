"""Small asyncio helpers."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait until it has ended.

    Its own outcome (cancelled, a result or an error nobody needs any more) is dropped; a
    cancellation of the caller while it waits still propagates, unlike
    `suppress(CancelledError)` around `await task`, which would swallow it.
    """
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning
