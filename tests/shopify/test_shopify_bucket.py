"""The shared cost bucket queues reservations first come, first served."""

from __future__ import annotations

import asyncio

import pytest

from server.shopify.throttle import CostBucket
from tests.helpers import eventually

SHOP = "bucket-shop.myshopify.com"


@pytest.mark.slow  # waits out a real restore rate
async def test_a_costly_call_is_not_starved_by_a_stream_of_cheap_ones(redis_client, redis_prefix):
    bucket = CostBucket(
        redis_client, key_prefix=redis_prefix, default_max=100.0, default_restore_rate=200.0
    )
    stop = asyncio.Event()
    cheap_taken = 0

    async def cheap_stream() -> None:
        nonlocal cheap_taken
        while not stop.is_set():
            assert await bucket.take(SHOP, 10.0, max_wait_s=0.05, max_total_wait_s=5.0)
            cheap_taken += 1

    streams = [asyncio.create_task(cheap_stream()) for _ in range(5)]
    try:
        await eventually(
            lambda: cheap_taken >= 20, what="the bucket busy with cheap calls", interval_s=0.01
        )
        # 90 points of 100 at 200 points/s: its turn comes within about half a second
        # whatever the others do. A bucket that only grants when enough is free would
        # keep handing the refill to the cheap callers and this one would give up.
        assert await bucket.take(SHOP, 90.0, max_wait_s=0.05, max_total_wait_s=1.0)
    finally:
        stop.set()
        await asyncio.gather(*streams)


@pytest.mark.slow  # waits out a real restore rate
async def test_reservations_never_exceed_the_restore_rate(redis_client, redis_prefix):
    bucket = CostBucket(
        redis_client, key_prefix=redis_prefix, default_max=50.0, default_restore_rate=500.0
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    granted: list[float] = []

    async def caller() -> None:
        for _ in range(10):
            assert await bucket.take(SHOP, 25.0, max_wait_s=0.05, max_total_wait_s=10.0)
            granted.append(loop.time() - started)

    await asyncio.gather(*(caller() for _ in range(4)))
    # 40 calls x 25 points = 1000 points: the bucket's 50, then 950 at 500/s, so the last
    # grant cannot come before ~1.9 s; points spent by any time never exceed 50 + 500 t.
    granted.sort()
    for index, at in enumerate(granted, start=1):
        assert index * 25.0 <= 50.0 + 500.0 * at + 25.0  # one call of slack for clock skew
