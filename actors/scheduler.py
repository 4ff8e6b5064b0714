"""The sync scheduler: one tick per period across every worker process.

Each worker process runs a small thread; at each period boundary every thread tries
`SET sync:schedule:<period> NX` in Redis and only the winner sends
`schedule_incremental_syncs(period)`. No extra process kind: `python -m server` and
`python -m server worker` both get it.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import dramatiq
import redis
from dramatiq.middleware import Middleware

from server.config import Config

log = logging.getLogger(__name__)

SCHEDULE_ACTOR = "schedule_incremental_syncs"


def schedule_key(period: int) -> str:
    """The Redis key the winner of a period sets."""
    return f"sync:schedule:{period}"


class SyncScheduler(Middleware):
    """Starts the tick thread after worker boot; stops it before shutdown."""

    def __init__(self, config: Config) -> None:
        self.redis_url = config.redis.url
        self.interval_s = config.sync.interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(broker,), name="sync-scheduler", daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self, broker: dramatiq.Broker) -> None:
        client = redis.Redis.from_url(self.redis_url)
        # Wake often enough to start each period promptly, never more than once a second.
        wake_s = max(0.2, min(1.0, self.interval_s / 4))
        try:
            while not self._stop.wait(wake_s):
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
            broker.get_actor(SCHEDULE_ACTOR).send(period)
            log.info("sync period %s scheduled", period)
        return bool(won)
