"""Aggregation is debounced per (shop, day): one recount per window, never one left out."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from dramatiq import Message

from actors.pixel import aggregate_days, persist_events
from models import PixelDailyAggregate
from tests.pixel_helpers import pixel_shop


def _payload(shop_id: int, event_id: str) -> str:
    now = datetime.now(UTC).isoformat()
    event = {
        "event_id": event_id,
        "name": "page_viewed",
        "ts": now,
        "client_id": "c1",
        "seq": 1,
        "type": "standard",
        "context": {},
        "data": {},
    }
    return orjson.dumps(
        {
            "v": 1,
            "batches": [
                {"shop_id": shop_id, "received_at": now, "version": None, "events": [event]}
            ],
        }
    ).decode()


def _scheduled(stub_broker) -> list[list]:
    queue = stub_broker.queues.get("pixel.DQ")
    raw = list(queue.queue) if queue is not None else []
    return [Message.decode(m).args[0] for m in raw]


async def test_one_recount_per_window_and_none_left_out(config, stub_broker, redis_client, client):
    shop, _ = await pixel_shop(config)
    await redis_client.delete(
        *[k async for k in redis_client.scan_iter("pixel:aggregate-*")] or ["none"]
    )
    for i in range(5):
        await persist_events(_payload(shop.id, f"e{i}"), redis=redis_client)
    scheduled = _scheduled(stub_broker)
    assert len(scheduled) == 1  # five batches, one delayed recount
    # The recount clears the mark first, then counts what is committed.
    await aggregate_days(scheduled[0], redis=redis_client)
    [row] = await PixelDailyAggregate.filter(shop_id=shop.id)
    assert row.count == 5
    # A batch after the recount read schedules another one: it is not left out.
    await persist_events(_payload(shop.id, "late"), redis=redis_client)
    assert len(_scheduled(stub_broker)) == 2
    await aggregate_days(_scheduled(stub_broker)[1], redis=redis_client)
    assert (await PixelDailyAggregate.get(shop_id=shop.id)).count == 6
