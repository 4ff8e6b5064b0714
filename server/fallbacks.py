"""Work done without Redis, counted: Redis is only a helper (rate limits, wake-ups, caches).

When Redis fails, each helper falls back and counts it here: the rate limiter to limits of
its own process, a wake-up to the sweeper (the committed work is found within
`outbox.stale_after_s`), a cached API page to a PostgreSQL read. /metrics shows the counts
as `redis_fallbacks_total{use}`; the app binds its counter at start (server/web/app.py).
"""

from __future__ import annotations

from typing import Any

RATE_LIMIT = "rate_limit"
WAKE = "wake"
CACHE = "cache"
USES = (RATE_LIMIT, WAKE, CACHE)

_counter: Any = None


def bind(counter: Any) -> None:
    """Count into this prometheus Counter (labelled by `use`) from now on."""
    global _counter
    _counter = counter
    for use in USES:  # every series exists from the start, at 0
        counter.labels(use)


def count(use: str, n: int = 1) -> None:
    """One fallback (or n) of `use`; a no-op until a counter is bound."""
    if _counter is not None:
        _counter.labels(use).inc(n)
