"""The sync lease is kept alive through long waits, and a lost lease stops the work."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from server.sync.engine import Lease, LeaseLostError, _with_lease_kept


@pytest.mark.slow  # waits out lease renewals
async def test_a_long_wait_keeps_the_lease(redis_client):
    shop_id = uuid.uuid4().int % 10**9
    lease = Lease(redis_client, shop_id, "products", ttl_s=1)
    assert await lease.acquire()
    rival = Lease(redis_client, shop_id, "products", ttl_s=1)

    async def long_wait() -> int:
        # Three times the lease's time to live without a checkpoint.
        await asyncio.sleep(3)
        return 0 if await rival.acquire() else 7

    assert await _with_lease_kept(long_wait(), lease, every_s=0.3) == 7
    await lease.release()


async def test_a_lost_lease_stops_the_work(redis_client):
    shop_id = uuid.uuid4().int % 10**9
    lease = Lease(redis_client, shop_id, "orders", ttl_s=1)
    assert await lease.acquire()
    finished = False

    async def work_whose_lease_is_taken() -> int:
        nonlocal finished
        await redis_client.set(lease.key, "someone-else", px=60_000)
        await asyncio.sleep(60)
        finished = True
        return 1

    with pytest.raises(LeaseLostError):
        await _with_lease_kept(work_whose_lease_is_taken(), lease, every_s=0.1)
    assert not finished
    await redis_client.delete(lease.key)
