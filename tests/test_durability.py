"""Nothing accepted is ever lost: faults under webhook and pixel load, then count.

Each test runs the app against its own PostgreSQL cluster and its own Redis (no
persistence, as a cache-grade Redis or a failover loses its data), a real worker pool, and
a load of signed webhook deliveries (products/create, one product each, plus one poison
delivery) and pixel batches. In the middle it breaks something: Redis restarted empty,
PostgreSQL restarted, the worker SIGKILLed. Then it counts: every delivery answered 200 is
applied exactly once, every pixel event answered 202 is stored exactly once and counted by
the aggregation, and nothing answered 5xx was applied.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from models import PixelDailyAggregate, PixelEvent, PixelPending, Product, WebhookDelivery
from models.pixel import WebPixel
from server.config import Config
from server.db import apply_migrations
from server.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.fake_shopify import WebhookSender
from tests.helpers import WorkerProcess, embedded_base_dir, eventually, install_shop
from tests.pixel_helpers import envelope

pytestmark = [pytest.mark.slow, pytest.mark.worker]

WEBHOOK_SHOP = "durable-webhooks.myshopify.com"
PIXEL_SHOP = "durable-pixel.myshopify.com"
STALE_AFTER_S = 2.0  # the sweep bound of these tests (60 s in production)
SWEEP_INTERVAL_S = 0.5
SETTLE_DEADLINE_S = 90.0


@dataclass
class Stores:
    """A private PostgreSQL cluster and Redis server, restartable on the same ports."""

    pg: EmbeddedPostgres
    redis: EmbeddedRedis
    redis_port: int = 0
    pg_port: int = 0

    def restart_redis_empty(self) -> None:
        self.redis.stop()
        shutil.rmtree(self.redis.data_dir, ignore_errors=True)
        self.redis.start(port=self.redis_port)

    def stop_redis(self) -> None:
        self.redis.stop()

    def start_redis_empty(self) -> None:
        shutil.rmtree(self.redis.data_dir, ignore_errors=True)
        self.redis.start(port=self.redis_port)

    def restart_postgres(self) -> None:
        self.pg.stop()
        self.pg.start(port=self.pg_port)


@pytest.fixture
def stores() -> Any:
    base = embedded_base_dir()
    pg = EmbeddedPostgres(base)
    redis = EmbeddedRedis(base, persist=False)
    try:
        pg.start()
        redis.start()
        yield Stores(pg, redis, redis_port=redis.port, pg_port=pg.port)
    finally:
        redis.stop()
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fault_env(base_env: dict[str, str], stores: Stores) -> dict[str, str]:
    return {
        **base_env,
        "DATABASE_URL": stores.pg.url,
        "REDIS_URL": stores.redis.url,
        "OUTBOX_STALE_AFTER_S": str(STALE_AFTER_S),
        "OUTBOX_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
        # No shop here is due a sync: the scheduler has nothing to send to Shopify.
        "SYNC_INTERVAL_S": "86400",
    }


@pytest.fixture
async def app(
    fault_env: dict[str, str], stores: Stores
) -> AsyncIterator[tuple[TestClient[Any, Any], Config]]:
    from actors.broker import setup_broker
    from server.config import load_config
    from server.web.app import create_app

    await apply_migrations(stores.pg.url)
    config = load_config(fault_env)
    # The load comes from one address: lift the per-IP pixel limit, as behind a balancer.
    config = replace(
        config,
        pixel=replace(
            config.pixel,
            ip_requests_per_s=100_000,
            ip_burst_requests=100_000,
            shop_events_per_s=1_000_000,
            shop_burst_events=1_000_000,
        ),
    )
    broker = setup_broker(config)
    server = TestServer(create_app(config, broker=broker))
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    try:
        yield client, config
    finally:
        await client.close()
        broker.close()


@dataclass
class Load:
    """What the clients sent and what each got back."""

    webhooks: dict[str, tuple[int, int]] = field(default_factory=dict)  # event -> (product, status)
    pixel: dict[str, int] = field(default_factory=dict)  # event id -> status
    poison_event: str = ""
    errors: int = 0

    def accepted_webhooks(self) -> dict[str, int]:
        return {e: p for e, (p, s) in self.webhooks.items() if s == 200}

    def refused_webhooks(self) -> set[str]:
        return {e for e, (_, s) in self.webhooks.items() if s >= 500}

    def accepted_events(self) -> set[str]:
        return {e for e, s in self.pixel.items() if s == 202}

    def refused_events(self) -> set[str]:
        return {e for e, s in self.pixel.items() if s >= 500}

    def report(self, what: str) -> str:
        statuses: dict[int, int] = {}
        for _, status in self.webhooks.values():
            statuses[status] = statuses.get(status, 0) + 1
        pixel: dict[int, int] = {}
        for status in self.pixel.values():
            pixel[status] = pixel.get(status, 0) + 1
        return (
            f"{what}: webhooks sent {len(self.webhooks)} by status {dict(sorted(statuses.items()))}; "
            f"pixel events sent {len(self.pixel)} by status {dict(sorted(pixel.items()))}"
        )


async def _setup_shops(config: Config) -> WebPixel:
    # The webhook shop exists but is not due a sync; the pixel shop's key is live.
    await install_shop(config, WEBHOOK_SHOP)
    shop = await install_shop(config, PIXEL_SHOP)
    from models import Shop

    await Shop.filter(domain__in=[WEBHOOK_SHOP, PIXEL_SHOP]).update(needs_reauth=True)
    return await WebPixel.create(
        shop=shop, status="active", ingest_key=f"durable-{shop.id}", activated_at=datetime.now(UTC)
    )


def _product(product_id: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": product_id,
        "title": f"p{product_id}",
        "created_at": now,
        "updated_at": now,
        "variants": [],
    }


async def _drive(
    client: TestClient[Any, Any], config: Config, pixel: WebPixel, load: Load, stop: asyncio.Event
) -> None:
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    next_product = iter(range(1, 10_000_000))

    async def webhooks() -> None:
        while not stop.is_set():
            product_id = next(next_product)
            delivery = sender.event("products/create", WEBHOOK_SHOP, _product(product_id))
            try:
                response = await sender.deliver(url, delivery)
            except OSError:
                load.errors += 1
                continue
            load.webhooks[delivery.event_id] = (product_id, response.status)

    async def events() -> None:
        while not stop.is_set():
            batch = [envelope("page_viewed", clientId=f"c{i % 7}") for i in range(10)]
            try:
                response = await client.post(
                    "/pixel/events",
                    data=orjson.dumps({"accountID": pixel.ingest_key, "events": batch}),
                )
                await response.read()
            except OSError:
                load.errors += 1
                continue
            for event in batch:
                load.pixel[event["id"]] = response.status

    # One delivery no retry can fix, among the others: it must end failed, alone.
    poison = sender.event("orders/create", WEBHOOK_SHOP, {"id": "not-a-number"})
    assert (await sender.deliver(url, poison)).status == 200
    load.poison_event = poison.event_id
    await asyncio.gather(*(webhooks() for _ in range(6)), *(events() for _ in range(3)))


async def _run_with_fault(
    client: TestClient[Any, Any],
    config: Config,
    pixel: WebPixel,
    fault: Callable[[], Any],
    *,
    before_s: float = 1.5,
    after_s: float = 2.0,
) -> Load:
    load = Load()
    stop = asyncio.Event()
    driver = asyncio.create_task(_drive(client, config, pixel, load, stop))
    await asyncio.sleep(before_s)  # load runs this long before the fault
    await fault()
    await asyncio.sleep(after_s)  # and this long after it
    stop.set()
    await driver
    return load


async def _assert_nothing_lost(load: Load, pixel: WebPixel) -> dict[str, int]:
    accepted = load.accepted_webhooks()
    events = load.accepted_events()
    assert accepted and events, load.report("no load was accepted")

    async def applied() -> bool:
        done = await WebhookDelivery.filter(event_id__in=list(accepted), state="done").count()
        products = await Product.filter(shopify_id__in=list(accepted.values())).count()
        owed = await PixelPending.all().count()
        assert (done, products, owed) == (len(accepted), len(accepted), 0), (
            f"{done} done, {products} products of {len(accepted)}; {owed} pixel rows owed"
        )
        return True

    await eventually(
        applied,
        what="every accepted delivery applied and every event aggregated",
        timeout_s=SETTLE_DEADLINE_S,
        interval_s=0.2,
        ignoring=(Exception,),  # a store still coming back
    )
    # Exactly once: each accepted delivery was applied in one committed transaction.
    rows = await WebhookDelivery.filter(event_id__in=list(accepted)).values_list(
        "attempts", flat=True
    )
    assert sorted(set(rows)) == [1], "a delivery was applied more than once"
    # Every event answered 202 is stored, once; the aggregates count each once.
    stored = set(await PixelEvent.filter(shop_id=pixel.shop_id).values_list("event_id", flat=True))
    assert events <= stored
    counted = sum(
        await PixelDailyAggregate.filter(shop_id=pixel.shop_id).values_list("count", flat=True)
    )
    assert counted == len(stored)
    # Nothing answered 5xx took effect (Shopify and the pixel send those again).
    refused = load.refused_webhooks()
    taken = await WebhookDelivery.filter(event_id__in=list(refused)).count()
    assert taken == 0, f"{taken} of {len(refused)} deliveries answered 5xx were stored"
    assert not (load.refused_events() & stored)
    # The poison delivery failed alone, visibly, without holding anything up.
    poison = await WebhookDelivery.get(event_id=load.poison_event)
    assert poison.state == "failed" and (poison.last_error or "").startswith("PayloadError")
    return {
        "webhooks_accepted": len(accepted),
        "webhooks_refused": len(refused),
        "events_accepted": len(events),
        "events_refused": len(load.refused_events()),
        "events_stored": len(stored),
    }


async def _under_load_with(
    app, worker: WorkerProcess, restart: Callable[[], None], what: str
) -> None:
    client, config = app
    pixel = await _setup_shops(config)

    async def fault() -> None:
        await asyncio.to_thread(restart)

    load = await _run_with_fault(client, config, pixel, fault)
    counts = await _assert_nothing_lost(load, pixel)
    assert worker.alive()
    print(load.report(what), counts)


async def test_redis_restarted_empty_under_load_loses_nothing(app, fault_env, stores, start_worker):
    worker = start_worker(fault_env, threads=4)
    await _under_load_with(app, worker, stores.restart_redis_empty, "Redis restarted empty")


REDIS_OUTAGE_S = 4.0


async def test_a_redis_outage_alone_refuses_no_post_and_loses_nothing(
    app, fault_env, stores, start_worker
):
    """Redis is only a helper: while it is down (seconds of load), every webhook is answered
    200 and every pixel post 202 after its commit (limits per process, wake-ups left to the
    sweeper), /readyz stays 200 (degraded) and /metrics counts the fallbacks; once it is
    back (empty), everything taken is applied once."""
    client, config = app
    worker = start_worker(fault_env, threads=4)
    pixel = await _setup_shops(config)
    during: dict[str, Any] = {}

    async def outage() -> None:
        await asyncio.to_thread(stores.stop_redis)
        await asyncio.sleep(REDIS_OUTAGE_S)  # the load goes on without Redis
        ready = await client.get("/readyz")
        during["readyz"] = (ready.status, await ready.json())
        during["metrics"] = await (await client.get("/metrics")).text()
        await asyncio.to_thread(stores.start_redis_empty)

    load = await _run_with_fault(client, config, pixel, outage)
    counts = await _assert_nothing_lost(load, pixel)
    statuses = {s for _, s in load.webhooks.values()} | set(load.pixel.values())
    refused = [s for _, s in load.webhooks.values() if s != 200]
    refused += [s for s in load.pixel.values() if s != 202]
    print(load.report("Redis down for 4 s"), counts, f"{len(refused)} refused")
    assert not refused, load.report("posts refused while Redis was down")
    assert statuses == {200, 202} and load.errors == 0
    status, body = during["readyz"]
    assert status == 200 and body["status"] == "degraded", body
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("degraded")
    fallbacks = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in during["metrics"].splitlines()
        if line.startswith("redis_fallbacks_total{")
    }
    assert fallbacks["rate_limit"] > 0 and fallbacks["wake"] > 0, fallbacks
    assert worker.alive()


async def test_postgres_restarted_under_load_applies_no_5xx_and_loses_no_2xx(
    app, fault_env, stores, start_worker
):
    worker = start_worker(fault_env, threads=4)
    await _under_load_with(app, worker, stores.restart_postgres, "PostgreSQL restarted")


async def test_a_sigkilled_worker_s_work_is_done_within_the_sweep_bound(
    app, fault_env, stores, start_worker
):
    client, config = app
    pixel = await _setup_shops(config)
    # Hold the tables the effects write, so the worker is inside its transactions when it
    # dies: its claimed deliveries and its claimed pixel days die with it.
    dsn = stores.pg.url.replace("postgres://", "postgresql://", 1)
    blocker = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)  # inside a transaction pg_stat_activity is a snapshot
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE products, pixel_daily_aggregates IN SHARE ROW EXCLUSIVE MODE")
    first = start_worker(fault_env, threads=4)
    killed_at = 0.0
    try:

        async def kill_the_worker() -> None:
            nonlocal killed_at

            async def stuck() -> bool:
                waiting = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                )
                assert waiting >= 2, f"{waiting} waiting"
                return True

            await eventually(stuck, what="the worker blocked in both kinds of work", process=first)
            first.kill()
            killed_at = time.monotonic()
            await transaction.rollback()

        load = await _run_with_fault(client, config, pixel, kill_the_worker, before_s=0.5)
    finally:
        if first.alive():
            first.kill()
        await blocker.close()
        await watcher.close()
    # A fresh pool, as an orchestrator would start: it never heard of the dead one's messages.
    start_worker(fault_env, threads=4)
    counts = await _assert_nothing_lost(load, pixel)
    recovered_s = time.monotonic() - killed_at
    # The dead worker's messages wait for Dramatiq's requeue (minutes); the sweeper's bound
    # is stale_after_s plus a sweep, plus the new pool's start-up and the backlog.
    assert recovered_s < STALE_AFTER_S + SWEEP_INTERVAL_S + 30, recovered_s
    print(load.report("worker SIGKILLed"), counts, f"all done {recovered_s:.1f} s after the kill")
