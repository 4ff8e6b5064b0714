"""Prometheus metrics of the web process, plus Dramatiq's queues and actors read from the broker."""

from __future__ import annotations

import asyncio
import bisect
import os
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
# operation -> count of Admin API answers that carried the deprecation header
# (server/shopify/deprecations.py counts them).
DEPRECATED_CALLS_KEY = "metrics:shopify:deprecated_calls"
# A worker process that has not beaten for this long counts as gone.
HEARTBEAT_STALE_S = 30.0


def heartbeat_key(namespace: str) -> str:
    """Where worker processes beat (actors/heartbeat.py): a sorted set of "host:pid" scored
    by the last beat; per broker namespace, like the queues the workers serve."""
    return f"{namespace}:workers:heartbeat"


def _observe_many(histogram: Any, values: list[float]) -> None:
    """`histogram.observe(v)` for each value, one `inc` per bucket and one for the sum.

    prometheus_client has no batch observe; its histogram child keeps one value per bucket
    (`_buckets`, non-cumulative: a value goes in the first bucket whose bound holds it) and
    `_sum`, the same in multiprocess mode. If a release changes that, each value is
    observed the public way (tests/test_monitoring.py checks the counts either way)."""
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:
            histogram.observe(value)
        return
    counts = [0] * len(bounds)
    for value in values:
        counts[bisect.bisect_left(bounds, value)] += 1
    for bucket, n in zip(buckets, counts, strict=True):
        if n:
            bucket.inc(n)
    total.inc(sum(values))


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


# What the outbox owes, read from PostgreSQL at each scrape (partial indexes keep it small).
OUTBOX_SQL = """
SELECT
    (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending') AS webhook_pending,
    (SELECT count(*) FROM webhook_deliveries WHERE state = 'failed') AS webhook_failed,
    (SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)
     FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at < now())
        AS webhook_overdue_s,
    (SELECT count(*) FROM pixel_pending WHERE state = 'pending') AS pixel_pending,
    (SELECT count(*) FROM pixel_pending WHERE state = 'failed') AS pixel_failed,
    (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)
     FROM pixel_pending WHERE state = 'pending') AS pixel_oldest_s
"""


class OutboxCollector(Collector):
    """Gauges of the durable intake's backlog and failures (the last scrape's reading)."""

    def __init__(self) -> None:
        self.reading: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        r = self.reading
        deliveries = GaugeMetricFamily(
            "webhook_deliveries",
            "Webhook deliveries owed (pending) or given up on (failed)",
            labels=["state"],
        )
        days = GaugeMetricFamily(
            "pixel_pipeline_pending_rows",
            "Pixel event summaries not yet in the aggregates (pending) or refused (failed)",
            labels=["state"],
        )
        for state in ("pending", "failed"):
            if f"webhook_{state}" in r:
                deliveries.add_metric([state], r[f"webhook_{state}"])
            if f"pixel_{state}" in r:
                days.add_metric([state], r[f"pixel_{state}"])
        yield deliveries
        yield days
        overdue = GaugeMetricFamily(
            "webhook_deliveries_overdue_seconds",
            "How long the most overdue pending delivery has waited past its due time",
        )
        oldest = GaugeMetricFamily(
            "pixel_pipeline_oldest_pending_seconds",
            "Age of the oldest pixel event summary not yet in the aggregates",
        )
        if r:
            overdue.add_metric([], r["webhook_overdue_s"])
            oldest.add_metric([], r["pixel_oldest_s"])
        yield overdue
        yield oldest


class DeprecatedCallsCollector(Collector):
    """`shopify_api_deprecated_calls_total{operation}`: Admin API answers that carried
    `X-Shopify-API-Deprecated-Reason`, counted by every process in Redis
    (server/shopify/deprecations.py) and read at each scrape."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "shopify_api_deprecated_calls",
            "Admin API answers naming a deprecated field, argument or enum value the"
            " operation used (X-Shopify-API-Deprecated-Reason), by operation",
            labels=["operation"],
        )
        for operation, value in sorted(self.counts.items()):
            family.add_metric([operation], value)
        yield family


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
        self.rate_limited = Counter(
            "http_rate_limited",
            "Requests refused with 429 by limit (auth-ip, api-shop, webhook-shop, ip, pixel ip/shop)",
            ["limit"],
            registry=self.registry,
        )
        self.rate_limit_unavailable = Counter(
            "http_rate_limit_store_errors",
            "Times the rate limit store (Redis) failed; limits are then per process for 5 s",
            registry=self.registry,
        )
        self.redis_fallbacks = Counter(
            "redis_fallbacks",
            "Work done without Redis, by use: rate_limit (a request limited per process),"
            " wake (a wake-up left to the sweeper), cache (an API page read from PostgreSQL)",
            ["use"],
            registry=self.registry,
        )
        self.dramatiq = DramatiqCollector()
        self.registry.register(self.dramatiq)
        self.outbox = OutboxCollector()
        self.registry.register(self.outbox)
        self.deprecated_calls = DeprecatedCallsCollector()
        self.registry.register(self.deprecated_calls)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._tallied: dict[tuple[str, str, int], list[float]] = {}
        self._tally_scheduled = False

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

    def tally(self, route: str, method: str, status: int, elapsed_s: float) -> None:
        """Count and time one request, added to the counter and the histogram once per turn
        of the event loop for all the requests of that turn (the intake lanes' metrics: a
        `labels` child's `inc` and `observe` take a lock each, per request otherwise)."""
        key = (route, method, status)
        waiting = self._tallied.get(key)
        if waiting is None:
            waiting = self._tallied[key] = []
        waiting.append(elapsed_s)
        if not self._tally_scheduled:
            self._tally_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush_tally)

    def flush_tally(self) -> None:
        """Add what `tally` gathered to the request counter and latency histogram."""
        self._tally_scheduled = False
        tallied, self._tallied = self._tallied, {}
        for (route, method, status), times in tallied.items():
            counter, histogram = self.children(route, method, status)
            counter.inc(len(times))
            _observe_many(histogram, times)

    def exposition_registry(self) -> CollectorRegistry:
        """What /metrics renders: this registry; or, when the web processes share their
        metrics (PROMETHEUS_MULTIPROC_DIR, set by `serve --processes N`), every process's
        HTTP metrics added up from their files, plus this process's broker and outbox
        readings and the deprecation counts (the same whichever process reads them)."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return self.registry
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self.dramatiq)
        registry.register(self.outbox)
        registry.register(self.deprecated_calls)
        return registry

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

    async def refresh_deprecated_calls(self, redis: Redis) -> None:
        """Read the deprecation notice counts every process adds to in Redis."""
        raw = await redis.hgetall(DEPRECATED_CALLS_KEY)
        self.deprecated_calls.counts = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in raw.items()
        }

    async def refresh_outbox(self, connection: Any) -> None:
        """Read the outbox gauges from PostgreSQL (a Tortoise connection)."""
        rows = await connection.execute_query_dict(OUTBOX_SQL)
        self.outbox.reading = {k: float(v) for k, v in rows[0].items()}
