"""A group committer of an intake route and its waker, for the app's lifetime.

`POST /webhooks` and `POST /flow/actions/{handle}` each commit what they take through a
group committer on connections of their own (outside the pool), and wake the workers after
each commit. This builds the cleanup context that starts both and closes them in order:
the committer (its last flush), then its connections, then the waker (its last sends).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from aiohttp import web

from server.db import connect
from server.groupcommit import CommitConnections, GroupCommitter
from server.wake import Waker
from server.web import keys

C = TypeVar("C", bound=GroupCommitter[Any, Any])


def committer_ctx(
    build: Callable[..., C],
    *,
    committer: web.AppKey[C],
    waker: web.AppKey[Waker],
    name: str,
    timeout_s: float,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context of a committer built by `build(waker, connections, *,
    stale_after_s)` (`delivery_committer`, `run_committer`), stored under `committer`, and
    of its waker (thread `name`), stored under `waker`."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        config = app[keys.CONFIG]
        wakes = Waker(name=name)
        connections = CommitConnections(
            functools.partial(connect, config, role="web", timeout_s=timeout_s)
        )
        started = build(wakes, connections, stale_after_s=config.outbox.stale_after_s)
        started.start()
        app[committer] = started
        app[waker] = wakes
        yield
        await started.close()
        await connections.close()
        await wakes.close()

    return ctx
