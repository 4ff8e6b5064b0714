"""The outbox sweeper: committed work that no worker finished is sent to the workers again.

A delivery, Flow run or pixel summary is committed in PostgreSQL before the web process
answers 2xx; the broker message that follows only wakes a worker. Whatever loses that
message (Redis down or restarted empty, a worker SIGKILLed holding it, a send that failed)
leaves the work pending in PostgreSQL, and every worker process's sweeper thread finds it
once it has been pending for `outbox.stale_after_s`, and sends it again. Once a minute it
also applies retention. What is owed and what is kept are each flow's business: the
sweeper only loops over the steps the flows registered (server/sweep.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from tortoise import Tortoise

import server.flows  # noqa: F401  (every flow registers its steps)
from actors.middleware import BackgroundThread
from server.config import Config, OutboxConfig, RetentionConfig
from server.sweep import RESEND_STEPS, RETENTION_STEPS, Message, Retention
from server.tasks import send

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 60.0


@dataclass
class SweepResult:
    """What one sweep found: the messages to send again, and what retention removed."""

    sends: list[Message] = field(default_factory=list)
    retained: dict[str, int] = field(default_factory=dict)


async def apply_retention(
    outbox: OutboxConfig, retention: RetentionConfig, *, today: date | None = None
) -> dict[str, int]:
    """Every flow's retention step; what each removed, by what."""
    keep = Retention(outbox=outbox, days=retention, today=today or datetime.now(UTC).date())
    connection = Tortoise.get_connection("default")
    done: dict[str, int] = {}
    for step in RETENTION_STEPS.handlers():
        done.update(await step(connection, keep))
    return done


async def sweep_once(
    outbox: OutboxConfig, *, retention: RetentionConfig | None = None
) -> SweepResult:
    """Claim what is due for another dispatch (and, given `retention`, apply it)."""
    connection = Tortoise.get_connection("default")
    result = SweepResult()
    for step in RESEND_STEPS.handlers():
        result.sends.extend(await step(connection, outbox))
    if retention is not None:
        result.retained = await apply_retention(outbox, retention)
    return result


def send_swept(result: SweepResult, broker: dramatiq.Broker) -> int:
    """Send the sweep's messages (blocking I/O: call it from a thread); how many."""
    for actor_name, args in result.sends:
        send(actor_name, *args, broker=broker)
    return len(result.sends)


class OutboxSweeper(BackgroundThread):
    """A thread per worker process that sweeps every `outbox.sweep_interval_s`."""

    thread_name = "outbox-sweeper"
    join_timeout_s = 10.0

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.outbox = config.outbox
        self.retention = config.retention

    def run(self, broker: dramatiq.Broker) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            log.error("outbox sweeper needs the AsyncIO middleware; not sweeping")
            return
        next_purge = time.monotonic()
        while not self.stopping.wait(self.outbox.sweep_interval_s):
            purge = time.monotonic() >= next_purge
            try:
                result: Any = loop_thread.run_coroutine(
                    sweep_once(self.outbox, retention=self.retention if purge else None)
                )
                if purge:
                    next_purge = time.monotonic() + PURGE_INTERVAL_S
                sent = send_swept(result, broker)
            except Exception as e:
                # The database or the broker is down: the work stays pending; next sweep.
                log.warning("outbox sweep failed: %s", type(e).__name__)
                continue
            if sent:
                log.info(
                    "outbox sweep re-sent work",
                    extra={"messages": dict(Counter(name for name, _ in result.sends))},
                )
            if any(result.retained.values()):
                log.info("retention applied", extra=result.retained)
