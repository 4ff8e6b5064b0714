"""Sending actor messages: the one way, by the actor's name (server/actor_names.py).

`send` is Dramatiq's blocking send, looked up by name on the broker of this process, so no
module below the actors imports one. The web process sends off its event loop (`enqueue`,
503 when the broker is down with `enqueue_or_503`); wake-ups after a commit go through
server/wake.py, which never fails a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dramatiq
import dramatiq.errors
import redis

from server.problem import Problem

log = logging.getLogger(__name__)


class BrokerUnavailableError(Exception):
    """The broker did not take the message."""


def send(actor: str, *args: Any, broker: dramatiq.Broker | None = None, **options: Any) -> None:
    """Send `args` to the actor named `actor` on `broker` (default: this process's);
    blocking I/O, so never on an event loop."""
    (broker or dramatiq.get_broker()).get_actor(actor).send_with_options(args=args, **options)


async def enqueue(actor: str, *args: Any) -> None:
    """`send(actor, *args)` in a thread; raises BrokerUnavailableError."""
    try:
        await asyncio.to_thread(send, actor, *args)
    except (dramatiq.errors.DramatiqError, redis.RedisError, OSError) as e:
        log.error("broker refused %s: %s", actor, type(e).__name__)
        raise BrokerUnavailableError(actor) from e


async def enqueue_or_503(actor: str, *args: Any) -> None:
    """Like enqueue, but a down broker is a 503 problem with Retry-After."""
    try:
        await enqueue(actor, *args)
    except BrokerUnavailableError:
        raise Problem.unavailable("the job queue is unavailable; try again shortly") from None
