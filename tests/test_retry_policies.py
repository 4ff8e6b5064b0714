"""server/retry.py, and the retry policies written as tenacity objects (which errors, how often, how long apart),
run against a callable that fails on purpose; the waits are recorded, not slept. The GraphQL
transport's policy (its attempts decide) is tested through the fake Shopify in
tests/shopify/test_shopify_client.py, the bulk query's wait for a slot in
tests/shopify/test_shopify_bulk.py."""

from __future__ import annotations

import asyncpg
import pytest

from server.pixel.store import AFTER_A_DEADLOCK
from server.retry import retry
from server.shops.tokens import STORE_NEW_PAIR_ATTEMPTS, STORING_THE_NEW_PAIR


class Flaky:
    """Raises each of `errors` in turn, then returns "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def recorded(policy):
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return policy.copy(sleep=sleep), waits


async def test_a_refreshed_pair_is_stored_through_store_hiccups_with_growing_waits():
    policy, waits = recorded(STORING_THE_NEW_PAIR)
    down = [ConnectionRefusedError() for _ in range(STORE_NEW_PAIR_ATTEMPTS - 1)]
    flaky = Flaky(*down)
    assert await retry(policy, flaky) == "done"
    assert flaky.calls == STORE_NEW_PAIR_ATTEMPTS
    assert waits == pytest.approx([0.2, 0.4, 0.6])


async def test_storing_a_refreshed_pair_gives_up_after_its_tries_and_never_retries_a_bug():
    policy, _ = recorded(STORING_THE_NEW_PAIR)
    always_down = Flaky(*[ConnectionRefusedError() for _ in range(STORE_NEW_PAIR_ATTEMPTS)])
    with pytest.raises(ConnectionRefusedError):
        await retry(policy, always_down)
    assert always_down.calls == STORE_NEW_PAIR_ATTEMPTS
    bug = Flaky(ValueError("not a store error"))
    with pytest.raises(ValueError):
        await retry(policy, bug)
    assert bug.calls == 1


async def test_a_deadlocked_flush_is_run_again_at_once_twice_then_raises():
    policy, waits = recorded(AFTER_A_DEADLOCK)
    once = Flaky(asyncpg.DeadlockDetectedError())
    assert await retry(policy, once) == "done"
    assert waits == [0]
    twice = Flaky(asyncpg.DeadlockDetectedError(), asyncpg.DeadlockDetectedError())
    with pytest.raises(asyncpg.DeadlockDetectedError):
        await retry(policy, twice)
    assert twice.calls == 2  # with the try before it (store_batches), 3 in all
    other = Flaky(asyncpg.UniqueViolationError())
    with pytest.raises(asyncpg.UniqueViolationError):
        await retry(policy, other)
    assert other.calls == 1


async def test_what_a_plain_function_returns_is_awaited():
    # A Tortoise query is an awaitable a plain method returns: tenacity alone would hand
    # back the unsent query.
    flaky = Flaky(ConnectionRefusedError())

    def query():
        return flaky()

    policy, _ = recorded(STORING_THE_NEW_PAIR)
    assert await retry(policy, query) == "done"
    assert flaky.calls == 2
