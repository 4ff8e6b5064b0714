"""Sending actor messages from the web process: off the event loop, 503 when the broker is down."""

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


async def enqueue(actor: dramatiq.Actor[Any, Any], *args: Any, **kwargs: Any) -> None:
    """`actor.send(...)` in a thread (send is blocking I/O); raises BrokerUnavailableError."""
    try:
        await asyncio.to_thread(actor.send, *args, **kwargs)
    except (dramatiq.errors.DramatiqError, redis.RedisError, OSError) as e:
        log.error("broker refused %s: %s", actor.actor_name, type(e).__name__)
        raise BrokerUnavailableError(actor.actor_name) from e


async def enqueue_or_503(actor: dramatiq.Actor[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Like enqueue, but a down broker is a 503 problem with Retry-After."""
    try:
        await enqueue(actor, *args, **kwargs)
    except BrokerUnavailableError:
        raise Problem.unavailable("the job queue is unavailable; try again shortly") from None
