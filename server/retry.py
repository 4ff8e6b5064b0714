"""The one way the app retries in-process: a tenacity policy (which errors, how many tries,
how long between them) declared where it applies, run by `retry`.

Dramatiq retries messages and the outbox retries rows (with their own backoff, in
PostgreSQL); this is for the few loops inside one call: a GraphQL call Shopify asks us to
send again, a deadlocked flush, a store hiccup while the only copy of a token is written, a
bulk query waiting for Shopify's one slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from tenacity import AsyncRetrying

P = ParamSpec("P")
T = TypeVar("T")


async def retry(
    policy: AsyncRetrying, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`await fn(*args, **kwargs)` under `policy`; the last error is raised as it was.

    A copy per call (~10 us): a tenacity object keeps the state of the call it runs (its
    statistics, the step it is at), which concurrent calls sharing a module-level policy
    would otherwise share once a policy's callback awaits. `fn` may return any awaitable (a
    Tortoise query, say): tenacity alone would not await what a plain function returns.
    """

    async def attempt() -> T:
        return await fn(*args, **kwargs)

    result: T = await policy.copy()(attempt)
    return result
