"""Prometheus metrics of the web process, plus Dramatiq's queues and actors read from the broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

if TYPE_CHECKING:
    from dramatiq import Broker

# Workers add to this hash (see actors/middleware.py); fields are "actor|queue|stat".
ACTOR_STATS_KEY = "metrics:dramatiq:actors"
# A worker process that has not beaten for this long counts as gone.
HEARTBEAT_STALE_S = 30.0


def heartbeat_key(namespace: str) -> str:
    """Where worker processes beat (actors/heartbeat.py): a sorted set of "host:pid" scored
    by the last beat; per broker namespace, like the queues the workers serve."""
    return f"{namespace}:workers:heartbeat"


@dataclass
class DramatiqSnapshot:
    """What the last scrape read from the broker."""

    queue_depth: dict[tuple[str, str], float] = field(default_factory=dict)
    actor_stats: dict[tuple[str, str, str], float] = field(default_factory=dict)
    live_workers: float = 0.0


class DramatiqCollector(Collector):
    """Exposes the last snapshot; /metrics refreshes it (async) just before rendering."""

    def __init__(self) -> None:
        self.snapshot = DramatiqSnapshot()

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "dramatiq_queue_messages",
            "Messages in a Dramatiq queue (ready and in flight), by state",
            labels=["queue", "state"],
        )
        for (queue, state), value in sorted(self.snapshot.queue_depth.items()):
            depth.add_metric([queue, state], value)
        yield depth
        live = GaugeMetricFamily(
            "dramatiq_workers_live",
            f"Worker processes whose heartbeat is under {HEARTBEAT_STALE_S:.0f} s old (all hosts)",
        )
        live.add_metric([], self.snapshot.live_workers)
        yield live
        families = {
            "processed": CounterMetricFamily(
                "dramatiq_actor_messages_processed",
                "Messages processed by actor",
                labels=["actor", "queue"],
            ),
            "failed": CounterMetricFamily(
                "dramatiq_actor_messages_failed",
                "Messages whose run raised",
                labels=["actor", "queue"],
            ),
            "retried": CounterMetricFamily(
                "dramatiq_actor_messages_retried",
                "Messages scheduled for retry",
                labels=["actor", "queue"],
            ),
            "dead_lettered": CounterMetricFamily(
                "dramatiq_actor_messages_dead_lettered",
                "Messages that exhausted retries and went to the dead-letter queue",
                labels=["actor", "queue"],
            ),
            "duration_ms": CounterMetricFamily(
                "dramatiq_actor_duration_milliseconds",
                "Total time spent running messages, by actor",
                labels=["actor", "queue"],
            ),
        }
        for (actor, queue, stat), value in sorted(self.snapshot.actor_stats.items()):
            if stat in families:
                families[stat].add_metric([actor, queue], value)
        yield from families.values()


class Metrics:
    """The web process's registry and instruments (one per app, so tests stay isolated)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.api_cache = Counter(
            "api_cache_lookups",
            "API list page cache lookups by resource and result (hit, miss, bypass)",
            ["resource", "result"],
            registry=self.registry,
        )
        self.dramatiq = DramatiqCollector()
        self.registry.register(self.dramatiq)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def children(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of one (route, method, status).

        Cached: `labels()` takes a lock and builds label tuples on every call, which the
        hot paths (webhooks, pixel events) would pay per request.
        """
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            found = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._children[key] = found
        return found

    async def refresh_dramatiq(
        self, redis: Redis, broker: Broker, *, broker_namespace: str
    ) -> None:
        """Read queue depths and worker-reported actor stats into the snapshot."""
        snapshot = DramatiqSnapshot()
        queues = sorted(q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ")))
        namespace = getattr(broker, "namespace", None)
        if namespace is not None:
            # Redis broker: each queue keeps its messages in a hash "<ns>:<queue>.msgs".
            async with redis.pipeline(transaction=False) as pipe:
                for queue in queues:
                    for suffix in ("", ".DQ", ".XQ"):
                        pipe.hlen(f"{namespace}:{queue}{suffix}.msgs")
                counts = await pipe.execute()
            states = ("ready", "delayed", "dead")
            for index, count in enumerate(counts):
                snapshot.queue_depth[(queues[index // 3], states[index % 3])] = float(count)
        elif hasattr(broker, "get_queue_message_counts"):
            for queue in queues:
                # pika is blocking: keep it off the event loop.
                ready, delayed, dead = await asyncio.to_thread(
                    broker.get_queue_message_counts, queue
                )
                snapshot.queue_depth[(queue, "ready")] = float(ready)
                snapshot.queue_depth[(queue, "delayed")] = float(delayed)
                snapshot.queue_depth[(queue, "dead")] = float(dead)
        now = time.time()
        snapshot.live_workers = float(
            await redis.zcount(heartbeat_key(broker_namespace), now - HEARTBEAT_STALE_S, "+inf")
        )
        raw = await redis.hgetall(ACTOR_STATS_KEY)
        for key, value in raw.items():
            name = key.decode() if isinstance(key, bytes) else str(key)
            actor, queue, stat = name.split("|", 2)
            snapshot.actor_stats[(actor, queue, stat)] = float(value)
        self.dramatiq.snapshot = snapshot
