"""The pixel pipeline in real `python -m server worker` processes on a real Redis broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import orjson
import pytest
from dramatiq.brokers.redis import MAINTENANCE_SCALE

from models import PixelDailyAggregate, PixelEvent
from server.metrics import ACTOR_STATS_KEY
from tests.pixel_helpers import clear_rate_limits, envelope, pixel_shop

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 90

pytestmark = pytest.mark.worker


def _start_worker(base_env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **base_env, "WORKER_PROCESSES": "1", "WORKER_THREADS": "2"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "worker", "-Q", "pixel"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(worker: subprocess.Popen[bytes]) -> int:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            return worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    return worker.returncode


async def _until(check, what: str, worker: subprocess.Popen[bytes], log_path: Path):
    """Poll `check` (a coroutine function) until it returns truthy; fail at the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        assert worker.poll() is None, log_path.read_text()[-3000:]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {DEADLINE_S} s: {log_path.read_text()[-3000:]}")


def _requeue_dead_workers(broker) -> None:
    """Hand the unacked messages of dead workers back to the pixel queue, now.

    Redis broker maintenance does this once a worker's heartbeat is older than
    heartbeat_timeout (60 s by default); with no live worker around, a timeout of 0 is exact.
    """
    chance, timeout = broker.maintenance_chance, broker.heartbeat_timeout
    broker.maintenance_chance, broker.heartbeat_timeout = MAINTENANCE_SCALE, 0
    try:
        broker.do_qsize("pixel")
    finally:
        broker.maintenance_chance, broker.heartbeat_timeout = chance, timeout


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    base_env, config, redis_broker, redis_client, database_url, aiohttp_client, tmp_path
):
    from server.app import create_app

    await clear_rate_limits(redis_client)
    # Start from an empty queue, with nothing of earlier runs' dead workers left to come back.
    _requeue_dead_workers(redis_broker)
    redis_broker.flush("pixel")
    client = await aiohttp_client(create_app(config, broker=redis_broker))
    shop, pixel = await pixel_shop(config)
    sent_ids = []
    for _ in range(5):
        events = [envelope("product_viewed", clientId=f"c{i % 4}") for i in range(20)]
        sent_ids += [e["id"] for e in events]
        response = await client.post(
            "/pixel/events", data=orjson.dumps({"accountID": pixel.ingest_key, "events": events})
        )
        assert response.status == 202
        assert (await response.json())["accepted"] == 20

    # Hold the events table so the worker is stuck inside its transaction when it dies.
    blocker = await asyncpg.connect(_pg(database_url))
    watcher = await asyncpg.connect(_pg(database_url))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE pixel_events IN SHARE ROW EXCLUSIVE MODE")
    log_path = tmp_path / "worker.log"
    first = _start_worker(base_env, log_path)
    try:

        async def inserting() -> bool:
            # From another connection: inside a transaction pg_stat_activity is a snapshot.
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO pixel_events%'"
            )
            return bool(waiting)

        await _until(inserting, "the worker's insert", first, log_path)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        await transaction.rollback()
        await blocker.close()
        await watcher.close()
    assert await PixelEvent.filter(shop_id=shop.id).count() == 0

    _requeue_dead_workers(redis_broker)

    second = _start_worker(base_env, log_path)
    try:

        async def all_aggregated() -> bool:
            rows = await PixelDailyAggregate.filter(shop_id=shop.id).values_list("count", flat=True)
            return sum(rows) == len(sent_ids)

        await _until(all_aggregated, "aggregation of every event", second, log_path)
    finally:
        code = _stop(second)
    assert code == 0, log_path.read_text()[-3000:]
    stored = await PixelEvent.filter(shop_id=shop.id).values_list("event_id", flat=True)
    assert sorted(stored) == sorted(sent_ids)


async def test_failing_messages_are_retried_then_dead_lettered_and_counted(
    base_env, config, redis_broker, redis_client, aiohttp_client, tmp_path
):
    from actors.pixel import aggregate_pixel_days, persist_pixel_events
    from server.app import create_app

    redis_broker.flush("pixel")
    namespace = redis_broker.namespace

    async def stat(actor: str, name: str) -> float:
        value = await redis_client.hget(ACTOR_STATS_KEY, f"{actor}|pixel|{name}")
        return float(value or 0)

    poison_before = await stat("persist_pixel_events", "dead_lettered")
    failing_before = await stat("aggregate_pixel_days", "dead_lettered")
    retried_before = await stat("aggregate_pixel_days", "retried")

    # A payload no retry can fix: dead-lettered at once (throws=).
    poison = persist_pixel_events.send("this is not a batch")
    # A day PostgreSQL rejects: fails on every try, retried with backoff, then dead-lettered.
    failing = aggregate_pixel_days.send_with_options(
        args=([[1, "2026-02-31"]],), max_retries=2, min_backoff=50, max_backoff=200
    )
    log_path = tmp_path / "worker.log"
    worker = _start_worker(base_env, log_path)
    try:

        async def dead_lettered() -> bool:
            # Keyed by the broker's own redis_message_id; the message says its message_id.
            stored = await redis_client.hvals(f"{namespace}:pixel.XQ.msgs")
            ids = {orjson.loads(raw)["message_id"] for raw in stored}
            return {poison.message_id, failing.message_id} <= ids

        await _until(dead_lettered, "dead-lettering", worker, log_path)

        async def counted() -> bool:
            return (
                await stat("persist_pixel_events", "dead_lettered") >= poison_before + 1
                and await stat("aggregate_pixel_days", "dead_lettered") >= failing_before + 1
            )

        await _until(counted, "the dead-letter count", worker, log_path)
    finally:
        code = _stop(worker)
    assert code == 0, log_path.read_text()[-3000:]
    assert await stat("aggregate_pixel_days", "retried") >= retried_before + 2

    client = await aiohttp_client(create_app(config, broker=redis_broker))
    text = await (await client.get("/metrics")).text()
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("dramatiq_actor_messages_dead_lettered_total")
        and 'actor="persist_pixel_events"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) >= poison_before + 1
    assert 'queue="pixel",state="dead"' in text
