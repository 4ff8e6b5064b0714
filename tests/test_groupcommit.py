"""The one group-commit mechanism of both intake paths: batching, errors, bad items."""

from __future__ import annotations

import asyncio
import functools

import asyncpg
import pytest

from server.db import connect
from server.groupcommit import (
    CommitConnections,
    CommitLost,
    GroupCommitter,
    ShuttingDownError,
    resolving_loss,
)


class Refused(Exception):
    """Stands for a value PostgreSQL refuses (asyncpg.DataError)."""


async def test_concurrent_items_share_flushes_and_get_their_own_results():
    flushed: list[list[int]] = []

    async def flush(batch: list[int]) -> list[int]:
        flushed.append(batch)
        return [n * 10 for n in batch]

    committer: GroupCommitter[int, int] = GroupCommitter(
        flush, interval_s=0.01, max_weight=100, max_bytes=1 << 20
    )
    committer.start()
    try:
        results = await asyncio.gather(*(committer.submit(n) for n in range(40)))
    finally:
        await committer.close()
    assert results == [n * 10 for n in range(40)]
    assert 1 <= len(flushed) < 40
    assert sorted(n for batch in flushed for n in batch) == list(range(40))


async def test_a_batch_never_exceeds_its_weight_or_size():
    sizes: list[tuple[int, int]] = []

    async def flush(batch: list[int]) -> list[None]:
        sizes.append((sum(batch), len(batch)))
        return [None] * len(batch)

    committer: GroupCommitter[int, None] = GroupCommitter(
        flush, interval_s=0.01, max_weight=10, max_bytes=3
    )
    committer.start()
    try:
        await asyncio.gather(*(committer.submit(3, weight=3, size=1) for _ in range(12)))
    finally:
        await committer.close()
    assert all(weight <= 10 and count <= 3 for weight, count in sizes)


async def test_a_store_error_fails_every_item_of_its_flush():
    async def flush(batch: list[int]) -> list[None]:
        raise ConnectionError("database down")

    committer: GroupCommitter[int, None] = GroupCommitter(
        flush, interval_s=0.01, max_weight=100, max_bytes=1 << 20
    )
    committer.start()
    try:
        results = await asyncio.gather(
            *(committer.submit(n) for n in range(8)), return_exceptions=True
        )
    finally:
        await committer.close()
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_one_refused_item_fails_alone_and_its_neighbours_are_committed():
    committed: list[int] = []
    attempts = 0

    async def flush(batch: list[int]) -> list[str]:
        nonlocal attempts
        attempts += 1
        if 13 in batch:  # the whole statement is refused while the bad row is in it
            raise Refused("invalid input")
        committed.extend(batch)
        return ["ok"] * len(batch)

    committer: GroupCommitter[int, str] = GroupCommitter(
        flush,
        interval_s=0.02,
        max_weight=1000,
        max_bytes=1 << 20,
        is_item_error=lambda e: isinstance(e, Refused),
    )
    committer.start()
    try:
        results = await asyncio.gather(
            *(committer.submit(n) for n in range(180)), return_exceptions=True
        )
    finally:
        await committer.close()
    failed = [n for n, r in enumerate(results) if isinstance(r, Exception)]
    assert failed == [13]
    assert sorted(committed) == [n for n in range(180) if n != 13]
    print(f"1 bad item among 180: 179 committed, 1 refused, {attempts} flush attempts")


async def test_a_closing_committer_flushes_what_waits_and_takes_nothing_new():
    done: list[int] = []

    async def flush(batch: list[int]) -> list[None]:
        done.extend(batch)
        return [None] * len(batch)

    committer: GroupCommitter[int, None] = GroupCommitter(
        flush, interval_s=0.05, max_weight=100, max_bytes=1 << 20
    )
    committer.start()
    waiting = [asyncio.ensure_future(committer.submit(n)) for n in range(5)]
    await asyncio.sleep(0)
    await committer.close()
    await asyncio.gather(*waiting)
    assert sorted(done) == list(range(5))
    with pytest.raises(ShuttingDownError):
        await committer.submit(99)


async def _insert(conn, event_id: str) -> None:
    await conn.execute(
        "INSERT INTO webhook_deliveries (shop_domain, topic, event_id, webhook_id,"
        " api_version, received_at, state, attempts, duplicates)"
        " VALUES ('a.myshopify.com', 't', $1, '', '', now(), 'ignored', 0, 0)",
        event_id,
    )


async def _exists(conn, event_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE event_id = $1)", event_id
        )
    )


@pytest.mark.parametrize("committed", [True, False])
async def test_a_statement_whose_answer_is_lost_is_resolved_by_asking_again(
    client, config, committed
):
    connections = CommitConnections(functools.partial(connect, config, role="web", timeout_s=5))
    event_id = f"lost-{committed}"

    async def statement() -> str:
        # The statement commits (or not), then its connection dies before the answer.
        conn = await connections.acquire()
        try:
            if committed:
                await _insert(conn, event_id)
            raise ConnectionResetError("the database went away")
        finally:
            connections.release(conn, broken=True)

    async def probe(conn) -> bool:
        return await _exists(conn, event_id)

    try:
        if committed:  # stored: the caller is told so (None: outcome unknown), and answers 2xx
            assert (
                await resolving_loss(
                    statement, probe=probe, connect=connections.connect, what="test"
                )
                is None
            )
        else:  # not stored: the caller sees the store's error, and answers 503
            with pytest.raises(ConnectionResetError):
                await resolving_loss(
                    statement, probe=probe, connect=connections.connect, what="test"
                )
    finally:
        await connections.close()


async def test_a_database_that_stays_away_leaves_the_loss_unresolved(client, config):
    async def statement() -> None:
        raise ConnectionResetError("the database went away")

    async def never_reachable() -> None:
        raise ConnectionRefusedError("still down")

    async def probe(conn) -> bool:
        raise AssertionError("no connection to probe with")

    with pytest.raises(CommitLost):
        await resolving_loss(
            statement, probe=probe, connect=never_reachable, what="test", within_s=0.5
        )


async def test_held_connections_are_reused_and_a_broken_one_is_replaced(client, config):
    opened = []

    async def opening():
        conn = await connect(config, role="web", timeout_s=5)
        opened.append(conn)
        return conn

    connections = CommitConnections(opening)
    try:
        assert await connections.run(lambda c: c.fetchval("SELECT 1")) == 1
        assert await connections.run(lambda c: c.fetchval("SELECT 2")) == 2
        assert len(opened) == 1  # held between statements: no pool, no reset
        with pytest.raises(asyncpg.DataError):  # the server refused a value: still usable
            await connections.run(lambda c: c.fetchval("SELECT 'x'::int"))
        assert len(opened) == 1
        with pytest.raises(asyncpg.InterfaceError):  # the connection broke: replaced

            async def broken(conn):
                await conn.close()
                return await conn.fetchval("SELECT 3")

            await connections.run(broken)
        assert await connections.run(lambda c: c.fetchval("SELECT 4")) == 4
        assert len(opened) == 2
    finally:
        await connections.close()
