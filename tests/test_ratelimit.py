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
