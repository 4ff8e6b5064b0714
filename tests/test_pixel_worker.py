"""The pipelines in real `python -m server worker` processes on a real Redis broker."""

from __future__ import annotations

import orjson
import pytest

from models import PixelDailyAggregate, PixelEvent
from server.metrics import ACTOR_STATS_KEY
from tests.helpers import eventually
from tests.pixel_helpers import clear_rate_limits, envelope, pixel_shop

DEADLINE_S = 90

pytestmark = pytest.mark.worker


async def test_a_real_worker_aggregates_what_the_web_process_committed(
    config, redis_broker, redis_client, aiohttp_client, start_worker
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
    worker = start_worker(queues=("pixel",))

    async def all_aggregated() -> bool:
        rows = await PixelDailyAggregate.filter(shop_id=shop.id).values_list("count", flat=True)
        return sum(rows) == len(sent_ids)

    await eventually(
        all_aggregated, what="aggregation of every event", timeout_s=DEADLINE_S, process=worker
    )
    assert await worker.stop_async() == 0, worker.output[-3000:]
    await pixel.refresh_from_db()
    assert pixel.last_event_at is not None


async def test_failing_messages_are_retried_then_dead_lettered_and_counted(
    config, redis_broker, redis_client, aiohttp_client, start_worker
):
    from actors.webhooks import process_lifecycle_webhooks
    from server.web.app import create_app

    redis_broker.flush("webhooks")
    namespace = redis_broker.namespace

    async def stat(name: str) -> float:
        value = await redis_client.hget(ACTOR_STATS_KEY, f"process_webhooks|webhooks|{name}")
        return float(value or 0)

    failing_before = await stat("dead_lettered")
    retried_before = await stat("retried")
    # A message no delivery id can be read from: fails every try, retried, then dead-lettered.
    failing = process_lifecycle_webhooks.send_with_options(
        args=(["not-an-id"],), max_retries=2, min_backoff=50, max_backoff=200
    )
    worker = start_worker(queues=("webhooks",))

    async def dead_lettered() -> bool:
        # Keyed by the broker's own redis_message_id; the message says its message_id.
        stored = await redis_client.hvals(f"{namespace}:webhooks.XQ.msgs")
        return failing.message_id in {orjson.loads(raw)["message_id"] for raw in stored}

    await eventually(dead_lettered, what="dead-lettering", timeout_s=DEADLINE_S, process=worker)

    async def counted() -> bool:
        return await stat("dead_lettered") >= failing_before + 1

    await eventually(counted, what="the dead-letter count", timeout_s=DEADLINE_S, process=worker)
    assert await worker.stop_async() == 0, worker.output[-3000:]
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
