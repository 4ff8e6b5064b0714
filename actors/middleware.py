"""Dramatiq middleware of ours: worker pools, and actor metrics reported through Redis."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from actors.resources import close_resources, open_resources
from server.config import Config
from server.metrics import ACTOR_STATS_KEY

log = logging.getLogger(__name__)


class WorkerPools(Middleware):
    """Opens Tortoise/Redis/HTTP pools in each worker process and closes them on shutdown."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Before, not after: Worker.start() starts its worker threads between the two hooks,
        # and a message taken then (a redelivery right after a restart) would find no pools.
        # AsyncIO's before_worker_boot (it comes first) has started the loop.
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            raise RuntimeError("the AsyncIO middleware must come before WorkerPools")
        loop_thread.run_coroutine(open_resources(self.config))
        log.info("worker pools open")

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # After the worker threads finished their messages (closing before would pull the
        # pools from under them). `after_*` hooks run in reverse order, so this comes before
        # AsyncIO's own after_worker_shutdown stops the loop.
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(close_resources())
        log.info("worker pools closed")


class OrphanGuard(Middleware):
    """A worker process dies (SIGKILL) when the pool's main process dies.

    Dramatiq's main process stops its worker processes on SIGTERM; if it is killed
    outright nobody would, and they would run on unsupervised. Unacknowledged messages
    are redelivered, so dying is the safe choice.
    """

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        import multiprocessing
        import os
        import signal

        from server.processes import set_parent_death_signal

        # The pool's main process as it was when it started this one: if it died while this
        # process was still booting, the current parent is already whoever adopted us.
        pool = multiprocessing.parent_process()
        parent = pool.pid if pool is not None and pool.pid is not None else os.getppid()
        set_parent_death_signal(signal.SIGKILL, parent=parent)


class BackgroundThread(Middleware):
    """A daemon thread per worker process: started after boot, stopped before shutdown.

    Subclasses implement `run(broker)`, which loops until `self.stopping` is set (wait on
    it between rounds), and may extend `after_worker_boot` / `before_worker_shutdown`.
    """

    thread_name = "background"
    join_timeout_s = 5.0

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(
            target=self.run, args=(broker,), name=self.thread_name, daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout_s)

    def run(self, broker: dramatiq.Broker) -> None:
        raise NotImplementedError


class ActorMetrics(BackgroundThread):
    """Counts processed/failed/retried/dead-lettered messages and run time per actor, and
    adds them to a Redis hash once a second (not once per message).

    Redis rather than a per-process registry, so the web process's /metrics sees every
    worker on every host. A Redis that is down keeps the counts for the next round.
    """

    thread_name = "actor-metrics"
    interval_s = 1.0

    def __init__(self, redis_url: str) -> None:
        super().__init__()
        self.redis_url = redis_url
        self._client: redis.Redis | None = None
        self._started: dict[str, float] = {}
        self._counts: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.redis_url)
        return self._client

    def _add(self, message: MessageProxy | dramatiq.Message[Any], **stats: float) -> None:
        with self._lock:
            for stat, value in stats.items():
                field = f"{message.actor_name}|{message.queue_name}|{stat}"
                self._counts[field] = self._counts.get(field, 0.0) + value

    def flush(self) -> None:
        """Add what was counted since the last round to the shared hash."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for field, value in counts.items():
                    pipe.hincrbyfloat(ACTOR_STATS_KEY, field, value)
                pipe.execute()
        except redis.RedisError:
            # Metrics must never fail a message: kept for the next round.
            with self._lock:
                for field, value in counts.items():
                    self._counts[field] = self._counts.get(field, 0.0) + value
            log.warning("could not record actor metrics", exc_info=True)

    def run(self, broker: dramatiq.Broker) -> None:
        while not self.stopping.wait(self.interval_s):
            self.flush()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.flush()  # what the last messages counted

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.monotonic()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        duration_ms = (time.monotonic() - started) * 1000 if started is not None else 0.0
        stats = {"processed": 1.0, "duration_ms": duration_ms}
        if exception is not None:
            stats["failed"] = 1.0
        self._add(message, **stats)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started.pop(message.message_id, None)

    def after_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None
    ) -> None:
        if message.options.get("retries"):
            self._add(message, retried=1.0)

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._add(message, dead_lettered=1.0)
