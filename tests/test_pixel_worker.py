"""The pipelines in real `python -m server worker` processes on a real Redis broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from models import PixelDailyAggregate, PixelEvent
from server.metrics import ACTOR_STATS_KEY
from tests.pixel_helpers import clear_rate_limits, envelope, pixel_shop

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 90

pytestmark = pytest.mark.worker


def _start_worker(
    base_env: dict[str, str], log_path: Path, *, queue: str = "pixel"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **base_env, "WORKER_PROCESSES": "1", "WORKER_THREADS": "2"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "worker", "-Q", queue],
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
    raise AssertionError(
        f"{what} did not happen within {DEADLINE_S} s: {log_path.read_text()[-3000:]}"
    )


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def test_a_real_worker_aggregates_what_the_web_process_committed(
    base_env, config, redis_broker, redis_client, aiohttp_client, tmp_path
):
    from server.web.app import create_app

    await clear_rate_limits(redis_client)
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
    # Committed before the 202s, before any worker ran.
    assert await PixelEvent.filter(shop_id=shop.id).count() == len(sent_ids)
    log_path = tmp_path / "worker.log"
    worker = _start_worker(base_env, log_path)
    try:

        async def all_aggregated() -> bool:
            rows = await PixelDailyAggregate.filter(shop_id=shop.id).values_list("count", flat=True)
            return sum(rows) == len(sent_ids)

        await _until(all_aggregated, "aggregation of every event", worker, log_path)
    finally:
        code = _stop(worker)
    assert code == 0, log_path.read_text()[-3000:]
    await pixel.refresh_from_db()
    assert pixel.last_event_at is not None


async def test_failing_messages_are_retried_then_dead_lettered_and_counted(
    base_env, config, redis_broker, redis_client, aiohttp_client, tmp_path
):
    from actors.webhooks import process_webhooks
    from server.web.app import create_app

    redis_broker.flush("webhooks")
    namespace = redis_broker.namespace

    async def stat(name: str) -> float:
        value = await redis_client.hget(ACTOR_STATS_KEY, f"process_webhooks|webhooks|{name}")
        return float(value or 0)

    failing_before = await stat("dead_lettered")
    retried_before = await stat("retried")
    # A message no delivery id can be read from: fails every try, retried, then dead-lettered.
    failing = process_webhooks.send_with_options(
        args=(["not-an-id"],), max_retries=2, min_backoff=50, max_backoff=200
    )
    log_path = tmp_path / "worker.log"
    worker = _start_worker(base_env, log_path, queue="webhooks")
    try:

        async def dead_lettered() -> bool:
            # Keyed by the broker's own redis_message_id; the message says its message_id.
            stored = await redis_client.hvals(f"{namespace}:webhooks.XQ.msgs")
            return failing.message_id in {orjson.loads(raw)["message_id"] for raw in stored}

        await _until(dead_lettered, "dead-lettering", worker, log_path)

        async def counted() -> bool:
            return await stat("dead_lettered") >= failing_before + 1

        await _until(counted, "the dead-letter count", worker, log_path)
    finally:
        code = _stop(worker)
    assert code == 0, log_path.read_text()[-3000:]
    assert await stat("retried") >= retried_before + 2

    client = await aiohttp_client(create_app(config, broker=redis_broker))
    text = await (await client.get("/metrics")).text()
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("dramatiq_actor_messages_dead_lettered_total")
        and 'actor="process_webhooks"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) >= failing_before + 1
    assert 'queue="webhooks",state="dead"' in text
