"""Group commit: events of concurrent requests go to the broker together, off the event loop.

A request hands its (already encoded) batch to the committer and waits; the committer's one
flusher task gathers what is waiting (for `interval` or until `max_events`), joins it into
one broker message and sends it from a dedicated thread (Dramatiq's `send` is blocking I/O).
Every request of a flush gets the same outcome: all in the broker, or all failed, so no
request is ever half-accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The broker did not take the batch (down, or slower than the timeout)."""


@dataclass(slots=True)
class _Pending:
    part: str
    events: int
    future: asyncio.Future[None]


class GroupCommitter:
    """Batches encoded parts from concurrent callers into one broker message per flush."""

    def __init__(
        self,
        send: Callable[[str], object],
        *,
        max_events: int,
        max_bytes: int,
        interval_s: float,
        timeout_s: float,
    ) -> None:
        self._send = send
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._pending: deque[_Pending] = deque()
        self._pending_events = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # One thread: flushes are sequential, and a slow broker never starves the loop's
        # default executor (readiness checks use it).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixel-commit")
        self.flushes = 0

    def start(self) -> None:
        """Start the flusher on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pixel-commit")

    async def close(self) -> None:
        """Flush what is waiting, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def commit(self, part: str, *, events: int) -> None:
        """Wait until `part` is in the broker; raise BrokerUnavailable if it could not be."""
        if self._closing:
            raise BrokerUnavailable("shutting down")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(part, events, future))
        self._pending_events += events
        self._wakeup.set()
        await future

    def _take(self) -> list[_Pending]:
        taken: list[_Pending] = []
        events = size = 0
        while self._pending:
            item = self._pending[0]
            if taken and (
                events + item.events > self._max_events or size + len(item.part) > self._max_bytes
            ):
                break
            self._pending.popleft()
            self._pending_events -= item.events
            taken.append(item)
            events += item.events
            size += len(item.part)
        return taken

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            if (
                self._interval_s > 0
                and self._pending_events < self._max_events
                and not self._closing
            ):
                await asyncio.sleep(self._interval_s)
            # Keep flushing while requests arrived during the last send: natural batching.
            while self._pending:
                batch = self._take()
                payload = '{"v":1,"batches":[' + ",".join(p.part for p in batch) + "]}"
                error: BaseException | None = None
                try:
                    await asyncio.wait_for(
                        loop.run_in_executor(self._executor, self._send, payload),
                        self._timeout_s,
                    )
                except TimeoutError:
                    error = BrokerUnavailable("broker timed out")
                except Exception as e:
                    # Connection refused, reset, auth errors...: the batch is not in the broker.
                    log.warning("broker did not take %d pixel batches: %s", len(batch), type(e).__name__)
                    error = BrokerUnavailable(type(e).__name__)
                else:
                    self.flushes += 1
                for item in batch:
                    if item.future.done():
                        continue
                    if error is None:
                        item.future.set_result(None)
                    else:
                        item.future.set_exception(error)
