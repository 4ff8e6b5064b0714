"""Waking workers after a commit: broker sends that never block or fail a request.

The committed rows are the work; a broker message only says "there is work". So a send
happens after the commit, in a thread (Dramatiq's `send` is blocking I/O), and the request
does not wait for it. A send that fails (the broker is down or was emptied) is logged and
dropped: the workers' sweeper finds the committed work within `outbox.stale_after_s`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from server import fallbacks
from server.tasks import send

log = logging.getLogger(__name__)

# Sends waiting for the thread beyond this are dropped: the sweeper covers them, and a
# slow broker must not make the web process hoard messages.
MAX_QUEUED_SENDS = 256
# Ids merged into one wake-up message at most (send_ids).
MAX_IDS_PER_MESSAGE = 1000
# One actor's wake-ups (send_ids) leave at most this often; the ids of the calls between
# ride in the next message. A wake-up costs a broker round trip and a Lua script (about
# 150 µs of this process's CPU), so under load this is what keeps it per interval, not per
# commit: it was 16% of the webhook intake's CPU at 5,000 deliveries/s; a worker hears of
# a delivery at most this much later.
SEND_INTERVAL_S = 0.025


class Waker:
    """Fire-and-forget actor sends from the event loop, in one background thread."""

    def __init__(self, *, name: str = "wake", interval_s: float = SEND_INTERVAL_S) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._interval_s = interval_s
        # Per actor: when its next send_ids message may leave (loop time).
        self._next_at: dict[str, float] = {}
        # Messages held back until their time: (timer, actor, batch).
        self._held: dict[int, tuple[asyncio.TimerHandle, str, list[int]]] = {}
        self._queued = 0
        self._in_flight: set[asyncio.Future[bool]] = set()
        self._closed = False
        # Per actor: the ids of a send_ids message queued and not yet taken by the thread.
        self._batches: dict[str, list[int]] = {}
        self._batches_lock = threading.Lock()
        self.sent = 0
        self.dropped = 0

    def send_ids(self, actor: str, ids: list[int]) -> None:
        """Queue `actor.send(ids)`; never raises. Until the message is taken by the thread
        (held back for the actor's interval, or waiting while the thread is busy), the ids
        of later calls for the same actor join it: under load the broker gets one message
        per actor and interval, not one per commit."""
        with self._batches_lock:
            batch = self._batches.get(actor)
            if batch is not None and len(batch) + len(ids) <= MAX_IDS_PER_MESSAGE:
                batch.extend(ids)
                return
            batch = self._batches[actor] = list(ids)
        if self._closed:
            self._send_now(actor, batch)
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = self._next_at.get(actor, now)
        self._next_at[actor] = max(at, now) + self._interval_s
        if at <= now:
            self._send_now(actor, batch)
            return
        key = id(batch)
        timer = loop.call_at(at, self._release, key)
        self._held[key] = (timer, actor, batch)

    def _release(self, key: int) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            self._send_now(held[1], held[2])

    def _send_now(self, actor: str, batch: list[int]) -> None:
        if not self._submit(self._send_batch, actor, batch):
            with self._batches_lock:  # dropped: no later ids may ride on it
                if self._batches.get(actor) is batch:
                    del self._batches[actor]

    def _send_batch(self, actor: str, batch: list[int]) -> bool:
        with self._batches_lock:
            if self._batches.get(actor) is batch:
                del self._batches[actor]  # from now on new ids start a new message
            ids = list(batch)
        return self._send(actor, (ids,), {})

    def send(self, actor: str, *args: Any, **options: Any) -> None:
        """Queue a send of the actor named `actor` (server/tasks.py's `send`, by name: code
        below the actors never imports one); never raises."""
        self._submit(self._send, actor, args, options)

    def _submit(self, call: Any, *args: Any) -> bool:
        if self._closed or self._queued >= MAX_QUEUED_SENDS:
            self.dropped += 1
            return False
        self._queued += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, call, *args)
        self._in_flight.add(future)
        future.add_done_callback(self._done)
        return True

    def _send(self, actor: str, args: tuple[Any, ...], options: Any) -> bool:
        try:
            send(actor, *args, **options)
        except Exception as e:
            # The work is committed; only the wake-up is lost (the sweeper resends it).
            log.warning("could not wake %s: %s", actor, type(e).__name__)
            fallbacks.count(fallbacks.WAKE)
            return False
        return True

    def _done(self, future: asyncio.Future[bool]) -> None:
        self._in_flight.discard(future)
        self._queued -= 1
        if not future.cancelled() and future.exception() is None and future.result():
            self.sent += 1
        else:
            self.dropped += 1

    def _release_held(self) -> None:
        for key, (timer, _actor, _batch) in list(self._held.items()):
            timer.cancel()
            self._release(key)

    async def idle(self) -> None:
        """Wait until every send queued so far has been tried (held ones sent now)."""
        self._release_held()
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def close(self) -> None:
        """Send what is held, finish the sends already queued, then stop."""
        self._release_held()
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)


class Debounced:
    """Wakes one actor at most once per `interval_s`, and always after the last request."""

    def __init__(self, waker: Waker, actor: str, *, interval_s: float) -> None:
        self._waker = waker
        self._actor = actor
        self._interval_s = interval_s
        self._requested = asyncio.Event()
        self._handed = asyncio.Event()  # set each time a wake-up went to the waker
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sender task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="debounced-wake")

    def request(self) -> None:
        """Ask for a wake-up; cheap, never blocks."""
        self._requested.set()

    async def _run(self) -> None:
        while True:
            await self._requested.wait()
            self._requested.clear()
            self._waker.send(self._actor)
            self._handed.set()
            await asyncio.sleep(self._interval_s)

    async def idle(self) -> None:
        """Wait until every request so far has been handed to the waker and tried."""
        while self._requested.is_set():
            self._handed.clear()
            await self._handed.wait()
        await self._waker.idle()

    async def close(self) -> None:
        """Stop; a request not yet sent is sent now."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._requested.is_set():
            self._waker.send(self._actor)
