"""Group commit: items of concurrent requests are written to PostgreSQL together.

A request hands its item to the committer and waits. The committer's flusher task gathers
what is waiting (for `interval_s`, or until a batch is full) and calls `flush(batch)`, which
writes the whole batch in one transaction and returns one result per item. Only then do
the requests get their answers: every result a caller sees is committed.

One bad item never fails its neighbours: when `flush` raises an error that `is_item_error`
says belongs to the data (PostgreSQL refused a value), the batch is split in halves and
each half is flushed again, down to the single item that fails alone. Any other error (the
database is down) fails the whole batch, and every caller of it sees that error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg  # type: ignore[import-untyped]

from server.store_errors import STORE_DOWN_ERRORS

T = TypeVar("T")
R = TypeVar("R")


class ShuttingDownError(Exception):
    """The committer is closing and takes nothing new."""


@dataclass(slots=True)
class _Waiting(Generic[T, R]):
    item: T
    weight: int
    size: int
    future: asyncio.Future[R] = field(repr=False)


class GroupCommitter(Generic[T, R]):
    """Batches items of concurrent callers into one `flush` per batch."""

    def __init__(
        self,
        flush: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        interval_s: float,
        max_weight: int,
        max_bytes: int,
        max_flushes: int = 2,
        is_item_error: Callable[[BaseException], bool] = lambda _e: False,
        name: str = "group-commit",
    ) -> None:
        self._flush_fn = flush
        self._interval_s = interval_s
        self._max_weight = max_weight
        self._max_bytes = max_bytes
        self._is_item_error = is_item_error
        self._name = name
        self._pending: deque[_Waiting[T, R]] = deque()
        self._pending_weight = 0
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(max_flushes)
        self._flushes: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.flush_count = 0

    def start(self) -> None:
        """Start the flusher on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def close(self) -> None:
        """Flush what is waiting, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def submit(self, item: T, *, weight: int = 1, size: int = 0) -> R:
        """Wait for the item's flush; its result, or the error that failed it."""
        if self._closing:
            raise ShuttingDownError(self._name)
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append(_Waiting(item, weight, size, future))
        self._pending_weight += weight
        self._wakeup.set()
        return await future

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
                and self._pending_weight < self._max_weight
                and not self._closing
            ):
                await asyncio.sleep(self._interval_s)
            # Keep flushing while requests arrive during the last flush: natural batching.
            while self._pending:
                await self._slots.acquire()
                task = loop.create_task(self._flush(self._take()))
                self._flushes.add(task)
                task.add_done_callback(self._flushes.discard)
            if self._closing:
                return  # submit refuses new items now: nothing more can arrive

    def _take(self) -> list[_Waiting[T, R]]:
        taken: list[_Waiting[T, R]] = []
        weight = size = 0
        while self._pending:
            waiting = self._pending[0]
            if taken and (
                weight + waiting.weight > self._max_weight or size + waiting.size > self._max_bytes
            ):
                break
            self._pending.popleft()
            self._pending_weight -= waiting.weight
            taken.append(waiting)
            weight += waiting.weight
            size += waiting.size
        return taken

    async def _flush(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            await self._flush_split(batch)
        finally:
            self._slots.release()

    async def _flush_split(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            results = await self._flush_fn([w.item for w in batch])
        except BaseException as e:  # every waiter learns the flush failed, whatever it was
            if isinstance(e, Exception) and self._is_item_error(e) and len(batch) > 1:
                # A value the database refused: find it, flush the rest without it.
                middle = len(batch) // 2
                await self._flush_split(batch[:middle])
                await self._flush_split(batch[middle:])
                return
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_exception(e)
            if not isinstance(e, Exception):
                raise
            return
        self.flush_count += 1
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.future.done():
                waiting.future.set_result(result)


class CommitLost(ConnectionError):
    """The database went away while committing, and whether the commit happened is unknown
    (answered as a store that is down: 503)."""


# How long a flush whose statement lost its connection waits for the database to say whether
# it committed (a restart takes seconds). Past this the answer is 503 though the rows may be
# stored; the sender's retry then finds them (a webhook is a duplicate, an event is kept once).
LOST_COMMIT_WINDOW_S = 15.0
PROBE_TIMEOUT_S = 1.0


async def resolving_loss(
    run: Callable[[], Awaitable[R]],
    *,
    probe: Callable[[Any], Awaitable[bool]],
    connect: Callable[[], Awaitable[Any]],
    what: str,
    within_s: float = LOST_COMMIT_WINDOW_S,
) -> R | None:
    """Run a flush's one autocommit statement; if its connection dies, find out whether it
    committed.

    A server that shuts down while the statement commits may have made it durable without
    the client hearing so. Answering 503 then would let a committed item be refused; so the
    flush asks again, on a fresh connection (`connect`) for up to `within_s`, whether every
    key it wrote is stored (`probe(connection)`). Returns run()'s result; None when the
    probe found everything stored (committed, by this statement or before it: either way
    stored); raises the connection error when not, or CommitLost when the database stayed
    away too long to tell.
    """
    try:
        return await run()
    except STORE_DOWN_ERRORS as error:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() < deadline:
            try:
                conn = await connect()
                try:
                    stored = await asyncio.wait_for(probe(conn), PROBE_TIMEOUT_S)
                finally:
                    await conn.close()
            except STORE_DOWN_ERRORS:
                await asyncio.sleep(0.2)
                continue
            if stored:
                return None
            raise
        raise CommitLost(what) from error


# What PostgreSQL reports of a session it is ending (a restart, a kill).
_CONNECTION_LOST = (asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)


class CommitConnections:
    """The connections a group committer writes with, held for it alone.

    A pool's connection is reset when it goes back (asyncpg sends a query for it): one more
    round trip per flush on the hot path. These stay open between flushes; one that fails
    with a store error is dropped and the next flush opens a fresh one.
    """

    def __init__(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self.connect = connect
        self._idle: list[Any] = []
        self._closed = False

    async def acquire(self) -> Any:
        """An open connection: an idle one, or a new one."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
        return await self.connect()

    def release(self, conn: Any, *, broken: bool = False) -> None:
        """Give a connection back; a broken one (or any once closing) is closed instead."""
        if broken or self._closed:
            conn.terminate()
        else:
            self._idle.append(conn)

    async def close(self) -> None:
        """Close every idle connection (a flush still running closes its own)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), PROBE_TIMEOUT_S)

    async def run(self, statement: Callable[[Any], Awaitable[R]]) -> R:
        """`statement(connection)` on a held connection."""
        conn = await self.acquire()
        try:
            result = await statement(conn)
        except BaseException as e:
            # A refusal the server reported (a bad value, a deadlock) leaves the connection
            # usable; anything else (it broke, or the flush was cancelled mid-statement) not.
            usable = (
                isinstance(e, asyncpg.PostgresError)
                and not isinstance(e, _CONNECTION_LOST)
                and not conn.is_closed()
            )
            self.release(conn, broken=not usable)
            raise
        self.release(conn)
        return result
