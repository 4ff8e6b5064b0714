"""The shared limiter: tokens leased from Redis are spent locally, without a Redis call."""

from __future__ import annotations

import uuid

import pytest

from server.ratelimit import Rate, RateLimited, RateLimiter


async def test_a_live_lease_is_spent_without_redis_and_an_empty_one_asks_again(redis_client):
    prefix = f"test-rl:{uuid.uuid4().hex}"
    limiter = RateLimiter(redis_client, lease_s=0.1, prefix=prefix)
    rate = Rate("unit", per_s=100, burst=100)  # a lease is 100 x 0.1 = 10 tokens
    assert not limiter.spend_leased(rate, "k")  # nothing leased yet
    await limiter.take(rate, "k")  # leases 10, spends 1
    bucket = f"{prefix}:unit:k"
    left_in_redis = await redis_client.hget(bucket, "tokens")
    # The other 9 come from the lease: Redis's bucket does not move.
    assert [limiter.spend_leased(rate, "k") for _ in range(10)] == [True] * 9 + [False]
    assert await redis_client.hget(bucket, "tokens") == left_in_redis
    # Spent: the next take leases again from Redis.
    await limiter.take(rate, "k")
    assert float(await redis_client.hget(bucket, "tokens")) < float(left_in_redis)


async def test_a_key_over_its_limit_is_not_spent_locally(redis_client):
    limiter = RateLimiter(redis_client, lease_s=1.0, prefix=f"test-rl:{uuid.uuid4().hex}")
    rate = Rate("tiny", per_s=1, burst=1)
    await limiter.take(rate, "k")
    with pytest.raises(RateLimited):
        await limiter.take(rate, "k")
    assert not limiter.spend_leased(rate, "k")
    assert limiter.blocked_for(rate, "k") is not None


async def test_a_redis_that_is_down_limits_per_process_and_stops_asking(redis_client):
    from redis.asyncio import Redis

    from server.embedded import free_port

    async with Redis.from_url(f"redis://127.0.0.1:{free_port()}/0") as down:
        limiter = RateLimiter(down, lease_s=0.1, prefix=f"test-rl:{uuid.uuid4().hex}")
        rate = Rate("unit", per_s=1, burst=3)
        # Taken, not refused for want of Redis: the process's own bucket of the same rate.
        for _ in range(3):
            await limiter.take(rate, "k")
        assert limiter.redis_down and limiter.store_errors == 1
        with pytest.raises(RateLimited) as over:
            await limiter.take(rate, "k")
        assert over.value.retry_after_s >= 1
        # Another key has its own bucket; Redis is not asked again while it is down.
        await limiter.take(rate, "other")
        assert limiter.store_errors == 1
        assert limiter.fallbacks == 5
