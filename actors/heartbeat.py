"""Worker heartbeat: proof that a worker process is alive and its event loop answers.

Every HEARTBEAT_INTERVAL_S each worker process runs a no-op on the AsyncIO middleware's
event loop (so a wedged loop stops the beat) and then:
- touches `VAR_DIR/heartbeats/worker-<pid>`: `python -m server worker --check` (the
  container health check) reads these files on the same host;
- sets its member in the Redis sorted set `heartbeat_key(BROKER_NAMESPACE)`: /metrics counts the members beaten
  within HEARTBEAT_STALE_S as `dramatiq_workers_live`, across every host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from pathlib import Path

import dramatiq
import redis
from dramatiq.asyncio import get_event_loop_thread

from actors.middleware import BackgroundThread
from server.config import Config
from server.metrics import HEARTBEAT_STALE_S, heartbeat_key

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 5.0
LOOP_CHECK_TIMEOUT_S = 5.0


def heartbeat_dir(var_dir: Path) -> Path:
    """Where this host's worker processes leave their heartbeat files."""
    return var_dir / "heartbeats"


def check_heartbeats(var_dir: Path, *, stale_s: float = HEARTBEAT_STALE_S) -> tuple[bool, str]:
    """(healthy, one line): healthy when a worker process on this host beat within stale_s."""
    folder = heartbeat_dir(var_dir)
    now = time.time()
    ages = []
    for path in folder.glob("worker-*"):
        with contextlib.suppress(OSError):
            ages.append(now - path.stat().st_mtime)
    if not ages:
        return False, f"unhealthy: no worker heartbeat in {folder}"
    fresh = [a for a in ages if a <= stale_s]
    if not fresh:
        return (
            False,
            f"unhealthy: last worker heartbeat {min(ages):.0f} s ago (limit {stale_s:.0f} s)",
        )
    return True, f"healthy: {len(fresh)} worker process(es) beat within {stale_s:.0f} s"


class WorkerHeartbeat(BackgroundThread):
    """The beat thread of each worker process; its file is removed at shutdown."""

    thread_name = "heartbeat"

    def __init__(self, config: Config, *, interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        super().__init__()
        self.redis_url = config.redis.url
        self.key = heartbeat_key(config.broker.namespace)
        self.folder = heartbeat_dir(config.app.var_dir)
        self.interval_s = interval_s
        self.join_timeout_s = interval_s + LOOP_CHECK_TIMEOUT_S
        self._file: Path | None = None
        self._member = ""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file = self.folder / f"worker-{os.getpid()}"
        self._member = f"{socket.gethostname()}:{os.getpid()}"
        super().after_worker_boot(broker, worker)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        super().before_worker_shutdown(broker, worker)
        if self._file is not None:
            self._file.unlink(missing_ok=True)
        with (
            contextlib.suppress(redis.RedisError),
            redis.Redis.from_url(self.redis_url) as client,
        ):
            client.zrem(self.key, self._member)

    def run(self, broker: dramatiq.Broker) -> None:
        client = redis.Redis.from_url(self.redis_url)
        try:
            self.beat(client)
            while not self.stopping.wait(self.interval_s):
                self.beat(client)
        finally:
            client.close()

    def beat(self, client: redis.Redis) -> bool:
        """One beat, if the event loop answers; False (and no beat) when it does not."""
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            future = asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop_thread.loop)
            try:
                future.result(timeout=LOOP_CHECK_TIMEOUT_S)
            except Exception as e:
                future.cancel()
                log.warning(
                    "heartbeat skipped: the event loop did not answer (%s)", type(e).__name__
                )
                return False
        assert self._file is not None
        self._file.touch()
        now = time.time()
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.zadd(self.key, {self._member: now})
                # Members of crashed processes age out here rather than piling up.
                pipe.zremrangebyscore(self.key, "-inf", now - 10 * HEARTBEAT_STALE_S)
                pipe.execute()
        except redis.RedisError as e:
            log.warning("heartbeat not recorded in Redis: %s", type(e).__name__)
        return True
