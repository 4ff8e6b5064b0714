"""The pixel pipeline's actor: runs the aggregation step (server/pixel/pipeline.py)."""

from __future__ import annotations

import asyncio

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from server.actor_names import AGGREGATE_PIXEL_INBOX
from server.pixel.pipeline import aggregate_inbox
from server.tasks import send

PIXEL_QUEUE = "pixel"


@dramatiq.actor(
    actor_name=AGGREGATE_PIXEL_INBOX,
    queue_name=PIXEL_QUEUE,
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=600_000,
)
async def aggregate_pixel_inbox() -> None:
    """Fold what the pixel pipeline owes; a fresh message continues if work is left."""
    outcomes = await aggregate_inbox()
    if outcomes.get("more"):
        await asyncio.to_thread(send, AGGREGATE_PIXEL_INBOX)  # send is blocking I/O
