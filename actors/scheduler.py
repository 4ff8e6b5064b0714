"""The sync scheduler: one tick per period across every worker process.

Each worker process runs a small thread; at each period boundary every thread tries
`SET sync:schedule:<period> NX` in Redis and only the winner sends
`schedule_incremental_syncs(period)` and `schedule_billing(period)`. No extra process kind: `python -m server` and
`python -m server worker` both get it.
"""

from __future__ import annotations

import logging
import os
import time

import dramatiq
import redis

from actors.middleware import BackgroundThread
from server.actor_names import SCHEDULED
from server.config import Config
from server.tasks import send

log = logging.getLogger(__name__)


def schedule_key(period: int) -> str:
    """The Redis key the winner of a period sets."""
    return f"sync:schedule:{period}"


class SyncScheduler(BackgroundThread):
    """The tick thread of each worker process (see the module docstring)."""

    thread_name = "sync-scheduler"

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.redis_url = config.redis.url
        self.interval_s = config.sync.interval_s

    def run(self, broker: dramatiq.Broker) -> None:
        client = redis.Redis.from_url(self.redis_url)
        # Wake often enough to start each period promptly, never more than once a second.
        wake_s = max(0.2, min(1.0, self.interval_s / 4))
        try:
            while not self.stopping.wait(wake_s):
                try:
                    self.tick(client, broker)
                except (redis.RedisError, dramatiq.errors.DramatiqError, OSError) as e:
                    log.warning("scheduler tick failed: %s", type(e).__name__)
        finally:
            client.close()

    def tick(
        self, client: redis.Redis, broker: dramatiq.Broker, *, now_s: float | None = None
    ) -> bool:
        """Claim the current period; the winner enqueues the period's syncs."""
        period = int((time.time() if now_s is None else now_s) // self.interval_s)
        won = client.set(schedule_key(period), os.getpid(), nx=True, ex=self.interval_s * 2 + 60)
        if won:
            for name in SCHEDULED:
                send(name, period, broker=broker)
            log.info("sync period %s scheduled", period)
        return bool(won)
