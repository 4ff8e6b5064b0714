"""Several hosts: PostgreSQL on one, Redis on one, two web hosts and two worker hosts, each
a network namespace of its own on one bridge (tests/multihost.py), the test's load clients
and fake Shopify on another.

- The per-shop pixel rate limit is one limit across both web hosts (its bucket is in Redis):
  what both accept together stays within the shop's burst plus its rate.
- Webhook and pixel load goes through both web hosts (a client that fails over to the
  other host, as a load balancer does, and resends what got no answer, as Shopify and the
  pixel do), with throughput through one web host reported against two. Mid-load one web
  host and the worker host that runs a sync and holds claimed deliveries are SIGKILLed
  (every process of the host at once). Then it counts: every delivery answered 200 applied
  exactly once, the dead worker's claimed deliveries redone by the other host once their
  lease ran out, every pixel event answered 202 stored and aggregated once; the shop's
  sync ran on one host at a time (the dead host's lease held the other off until it
  expired, then the other finished the run), and each sync period was scheduled by one
  worker host only.
- A worker host cut off the network (its link down, then its processes killed: no FIN
  reaches PostgreSQL) gives back the deliveries it had claimed within the dead-peer
  timeout: the other host applies them, once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import re
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
from aiohttp import web
from tortoise import Tortoise

from models import (
    Customer,
    Order,
    PixelDailyAggregate,
    PixelEvent,
    PixelPending,
    Product,
    Shop,
    SyncRun,
    WebhookDelivery,
)
from models.pixel import WebPixel
from server.config import Config, load_config
from server.db import tortoise_config
from tests.fake_shopify import FakeShopify, Fault, WebhookSender
from tests.helpers import bearer, eventually, install_shop
from tests.multihost import AppHost, Cluster, NetnsUnavailableError, cluster, config_file
from tests.pixel_helpers import envelope

pytestmark = [pytest.mark.slow, pytest.mark.worker]

# The shops' pixel limit (events): both web hosts together may accept at most the burst
# plus the rate times the time they took.
SHOP_EVENTS_PER_S = 100
SHOP_BURST_EVENTS = 100
PIXEL_SHOPS = 40  # the load's events spread over these, each well under its limit
EVENTS_PER_POST = 10
DEAD_PEER_TIMEOUT_S = 5  # a silent host's sessions end after about this (30 s in production)
STALE_AFTER_S = 2.0  # a claimed delivery's lease (60 s in production)
SWEEP_INTERVAL_S = 0.5
SYNC_LEASE_S = 3  # a sync's lease (120 s in production)
SYNC_INTERVAL_S = 3  # each period's scheduled tick resumes a dead host's run
SYNC_PRODUCTS = 600  # 20 pages of 30
SHOPIFY_DELAY_S = 0.25  # each of the fake's answers to the sync shop: a run takes seconds
THROUGHPUT_S = 4.0
SETTLE_DEADLINE_S = 90.0
PAGE_OPERATIONS = {
    b"ProductsPage": "products",
    b"OrdersPage": "orders",
    b"CustomersPage": "customers",
}


def _config_file(path: Path) -> Path:
    """config.toml with the shops' pixel limit above; the per-IP one lifted (the load
    comes from one address, as from behind a balancer)."""
    return config_file(
        path,
        {
            "shop_events_per_s": SHOP_EVENTS_PER_S,
            "shop_burst_events": SHOP_BURST_EVENTS,
            "ip_requests_per_s": 1_000_000,
            "ip_burst_requests": 1_000_000,
            "dead_peer_timeout_s": DEAD_PEER_TIMEOUT_S,
        },
    )


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


@dataclass
class Hosts:
    cluster: Cluster
    config: Config  # the test's view of the app's settings (signing, tokens)
    fake_port: int  # where the fake Shopify listens, on the test's own address

    @property
    def webs(self) -> list[AppHost]:
        return self.cluster.webs

    @property
    def workers(self) -> list[AppHost]:
        return self.cluster.workers


@pytest.fixture(scope="module")
def hosts(secrets_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    settings = _config_file(tmp_path_factory.mktemp("multihost") / "config.toml")
    ports: dict[str, int] = {}

    def env(gateway: str) -> dict[str, str]:
        ports["fake"] = _free_port(gateway)
        return {
            **secrets_env,
            "APP_ENV": "production",
            "CONFIG_FILE": str(settings),
            "SHOPIFY_APP_URL": "https://app.example.test",
            "SHOPIFY_ADMIN_ORIGIN": f"http://{gateway}:{ports['fake']}/{{shop}}",
            "BROKER_NAMESPACE": "multihost",
            "LOG_LEVEL": "INFO",
            "WEB_PROCESSES": "1",
            "OUTBOX_STALE_AFTER_S": str(STALE_AFTER_S),
            "OUTBOX_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
            "SYNC_LEASE_S": str(SYNC_LEASE_S),
            "SYNC_INTERVAL_S": str(SYNC_INTERVAL_S),
        }

    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(cluster(env, worker_argv=("-p", "1", "-t", "4")))
        except NetnsUnavailableError as e:
            pytest.skip(f"cannot make network namespaces here, so no hosts to test on: {e}")
        config = load_config({**running.env, "VAR_DIR": str(running.base / "test-var")})
        yield Hosts(running, config, ports["fake"])


@pytest.fixture
async def db(hosts: Hosts) -> AsyncIterator[asyncpg.Connection]:
    """The test's own Tortoise (for setting up shops and counting) and a raw connection, on
    the PostgreSQL host; every app host running at the start."""
    await asyncio.to_thread(hosts.cluster.revive)
    url = hosts.cluster.database_url
    await Tortoise.init(config=tortoise_config(url, pool_max=4))
    raw = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        yield raw
    finally:
        await raw.close()
        await Tortoise.close_connections()


async def _pixel_shop(config: Config, domain: str) -> WebPixel:
    """An installed shop with an active pixel, never due a sync (nothing to ask Shopify)."""
    shop = await install_shop(config, domain)
    await Shop.filter(id=shop.id).update(needs_reauth=True)
    return await WebPixel.create(
        shop=shop, status="active", ingest_key=f"key-{domain}", activated_at=datetime.now(UTC)
    )


def _batch(n: int = EVENTS_PER_POST) -> list[dict[str, Any]]:
    return [envelope("page_viewed", clientId=f"c{i % 7}") for i in range(n)]


async def _post_events(
    session: aiohttp.ClientSession, url: str, key: str, batch: list[dict[str, Any]]
) -> int:
    body = orjson.dumps({"accountID": key, "events": batch})
    async with session.post(f"{url}/pixel/events", data=body) as response:
        await response.read()
        return response.status


# ------------------------------------------------------------------ shared limits


def _chunks(items: list, size: int = 10_000) -> list[list]:
    """`items` in pieces a statement can take (at most 32,767 parameters each)."""
    return [items[n : n + size] for n in range(0, len(items), size)]


async def _done(event_ids: list[str]) -> int:
    """How many of these webhook deliveries are applied."""
    return sum(
        [
            await WebhookDelivery.filter(event_id__in=ids, state="done").count()
            for ids in _chunks(event_ids)
        ]
    )


async def test_the_pixel_rate_limit_of_a_shop_holds_across_both_web_hosts(hosts, db):
    """Both web hosts flooded for one shop at once: each host refuses some (429), and what
    the two accept together stays within one bucket (burst + rate x time), not one per
    host; every event accepted is stored once."""
    pixel = await _pixel_shop(hosts.config, "mh-flood.myshopify.com")
    accepted: Counter[str] = Counter()
    statuses: dict[str, Counter[int]] = {web.host.name: Counter() for web in hosts.webs}
    stored_ids: set[str] = set()
    flood_s = 3.0

    async def flood(session: aiohttp.ClientSession, web_host: AppHost, until: float) -> None:
        while time.monotonic() < until:
            batch = _batch()
            status = await _post_events(session, web_host.url, pixel.ingest_key, batch)
            statuses[web_host.host.name][status] += 1
            if status == 202:
                accepted[web_host.host.name] += len(batch)
                stored_ids.update(e["id"] for e in batch)

    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        until = started + flood_s
        await asyncio.gather(*(flood(session, w, until) for w in hosts.webs for _ in range(4)))
        took_s = time.monotonic() - started
    bound = SHOP_BURST_EVENTS + SHOP_EVENTS_PER_S * took_s
    total = sum(accepted.values())
    print(
        f"pixel limit across hosts: accepted {dict(accepted)} = {total} events in {took_s:.1f} s "
        f"(one bucket allows {bound:.0f}); answers by host {statuses}"
    )
    for name, counts in statuses.items():
        assert counts[429] > 0, f"{name} was never limited: {counts}"
        assert accepted[name] > 0, f"{name} accepted nothing: {counts}"
    assert total <= bound, f"{total} events accepted by both hosts; one bucket allows {bound:.0f}"
    stored = await PixelEvent.filter(shop_id=pixel.shop_id).values_list("event_id", flat=True)
    assert sorted(stored) == sorted(stored_ids)


# ------------------------------------------------------------------ load, kills, counts


@dataclass
class Load:
    """What the clients sent through the web hosts and what was accepted."""

    webhooks: dict[str, int] = field(default_factory=dict)  # event id -> product id, answered 200
    events: set[str] = field(default_factory=set)  # pixel event ids answered 202
    statuses: Counter[int] = field(default_factory=Counter)
    failovers: int = 0  # items sent again to the other host (no answer, or 5xx)
    given_up: int = 0  # items that no host accepted in the time

    def merge(self, other: Load) -> None:
        self.webhooks.update(other.webhooks)
        self.events |= other.events
        self.statuses.update(other.statuses)
        self.failovers += other.failovers
        self.given_up += other.given_up


@dataclass
class Driver:
    """Closed-loop clients: webhook senders and pixel posters, each pinned to a web host and
    failing over to the next live one (a balancer takes a host that refused a connection out
    of rotation) with the same item: Shopify and the pixel resend what got no 2xx."""

    session: aiohttp.ClientSession
    sender: WebhookSender
    shop: str
    pixels: list[WebPixel]
    products: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    keys: Iterator[WebPixel] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = itertools.cycle(self.pixels)

    async def _deliver(self, delivery: Any, url: str) -> int:
        return int((await self.sender.deliver(f"{url}/webhooks", delivery)).status)

    async def _post(self, key: str, batch: list[dict[str, Any]], url: str) -> int:
        return await _post_events(self.session, url, key, batch)

    async def _send(
        self,
        targets: list[AppHost],
        first: int,
        attempt: Callable[[str], Awaitable[int]],
        load: Load,
    ) -> int:
        """`attempt(url)` -> status, on `first`'s host and then the others; the final status."""
        for tries in range(3 * len(targets)):
            live = [t for t in targets if t.alive()] or targets
            target = live[(first + tries) % len(live)]
            try:
                status = int(await attempt(target.url))
            except (aiohttp.ClientError, OSError):
                status = 0
            load.statuses[status] += 1
            if 0 < status < 500:
                return status
            load.failovers += 1
            await asyncio.sleep(0.05 * tries)
        load.given_up += 1
        return 0

    async def run(
        self,
        targets: list[AppHost],
        stop: asyncio.Event,
        *,
        webhook_clients: int = 4,
        pixel_clients: int = 2,
    ) -> Load:
        load = Load()

        async def webhooks(first: int) -> None:
            while not stop.is_set():
                product_id = next(self.products)
                now = datetime.now(UTC).isoformat()
                payload = {
                    "id": product_id,
                    "title": f"p{product_id}",
                    "created_at": now,
                    "updated_at": now,
                    "variants": [],
                }
                delivery = self.sender.event("products/create", self.shop, payload)
                attempt = functools.partial(self._deliver, delivery)
                if await self._send(targets, first, attempt, load) == 200:
                    load.webhooks[delivery.event_id] = product_id

        async def events(first: int) -> None:
            while not stop.is_set():
                pixel, batch = next(self.keys), _batch()
                attempt = functools.partial(self._post, pixel.ingest_key, batch)
                if await self._send(targets, first, attempt, load) == 202:
                    load.events.update(e["id"] for e in batch)

        await asyncio.gather(
            *(webhooks(i) for i in range(webhook_clients * len(targets))),
            *(events(i) for i in range(pixel_clients * len(targets))),
        )
        return load

    async def for_seconds(self, targets: list[AppHost], seconds: float) -> tuple[Load, float]:
        stop = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(self.run(targets, stop))
        await asyncio.sleep(seconds)  # the measured window: load runs this long
        stop.set()
        load = await task
        return load, time.monotonic() - started


@dataclass
class PageCall:
    """One page of a sync as the fake Shopify saw it: which resource, from which host, when."""

    resource: str
    host: str
    start: float
    end: float


def _recording(fake: FakeShopify, calls: list[PageCall]) -> web.Application:
    """The fake's app, recording every sync page request with the caller's address."""

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.endswith("/graphql.json"):
            return await handler(request)
        found = re.search(rb"query (\w+)", await request.read())
        resource = PAGE_OPERATIONS.get(found.group(1)) if found else None
        start = time.monotonic()
        try:
            return await handler(request)
        finally:
            if resource is not None:
                calls.append(PageCall(resource, request.remote or "", start, time.monotonic()))

    app = fake.app()
    app.middlewares.append(record)
    return app


def _overlaps(calls: list[PageCall]) -> list[tuple[PageCall, PageCall]]:
    """Pairs of page requests of one resource in flight at the same time: two runs at once
    (a run asks for its next page only once it has the previous one)."""
    found = []
    for resource in {c.resource for c in calls}:
        mine = sorted((c for c in calls if c.resource == resource), key=lambda c: c.start)
        for before, after in itertools.pairwise(mine):
            if after.start < before.end:
                found.append((before, after))
    return found


_HELD = """
SELECT d.id FROM pgrowlocks('{table}') l
JOIN {table} d ON d.ctid = l.locked_row
WHERE EXISTS (
    SELECT 1 FROM pg_stat_activity a WHERE a.pid = ANY(l.pids) AND host(a.client_addr) = $1
)
"""


async def _held_by(raw: asyncpg.Connection, table: str, ip: str) -> list[int]:
    """Ids of `table`'s rows that a transaction of host `ip` holds locked (claimed)."""
    return [r["id"] for r in await raw.fetch(_HELD.format(table=table), ip)]


async def _blocked(raw: asyncpg.Connection, ip: str) -> int:
    return int(
        await raw.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND host(client_addr) = $1",
            ip,
        )
    )


def _rate(load: Load, seconds: float) -> str:
    return (
        f"{len(load.webhooks) / seconds:,.0f} deliveries/s + {len(load.events) / seconds:,.0f} "
        f"events/s"
    )


async def test_two_web_and_two_worker_hosts_lose_nothing_when_one_of_each_is_killed(
    hosts, db, record_property
):
    config = hosts.config
    web1, web2 = hosts.webs
    raw = db
    await raw.execute("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
    webhook_shop = "mh-webhooks.myshopify.com"
    await install_shop(config, webhook_shop)
    await Shop.filter(domain=webhook_shop).update(needs_reauth=True)
    pixels = [await _pixel_shop(config, f"mh-px{i}.myshopify.com") for i in range(PIXEL_SHOPS)]

    # The fake Shopify, on the test's address: the shop whose sync the worker hosts share.
    fake = FakeShopify(
        api_key=config.shopify.api_key,
        api_secret=config.shopify.api_secret.reveal(),
        restore_rate=50_000.0,
    )
    calls: list[PageCall] = []
    runner = web.AppRunner(_recording(fake, calls), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, hosts.cluster.network.gateway, hosts.fake_port).start()
    sync_domain = "mh-sync.myshopify.com"
    fake.add_shop(
        sync_domain, products=SYNC_PRODUCTS, variants_per_product=2, orders=20, customers=20
    )
    fake.inject(sync_domain, *[Fault(delay_s=SHOPIFY_DELAY_S) for _ in range(5000)])

    async with aiohttp.ClientSession() as session:
        sender = WebhookSender(session, secret=config.shopify.api_secret.reveal())
        driver = Driver(session, sender, webhook_shop, pixels)
        total = Load()

        # Throughput: the same clients per web host, through one host, then through both.
        one, one_s = await driver.for_seconds([web1], THROUGHPUT_S)
        two, two_s = await driver.for_seconds([web1, web2], THROUGHPUT_S)
        total.merge(one)
        total.merge(two)
        throughput = {
            "one_web_host": {
                "deliveries_per_s": len(one.webhooks) / one_s,
                "events_per_s": len(one.events) / one_s,
            },
            "two_web_hosts": {
                "deliveries_per_s": len(two.webhooks) / two_s,
                "events_per_s": len(two.events) / two_s,
            },
        }
        record_property("throughput", throughput)
        print(f"throughput: one web host {_rate(one, one_s)}; two web hosts {_rate(two, two_s)}")
        assert one.webhooks and one.events and two.webhooks and two.events

        # The faults, under load through both web hosts. The sync shop installs now (the
        # scheduler would sync it at once), and its merchant asks for a full sync.
        sync_shop = await install_shop(
            config, sync_domain, access_token=fake.issue_token(sync_domain)
        )
        stop = asyncio.Event()
        load_task = asyncio.create_task(driver.run([web1, web2], stop))
        response = await session.post(
            f"{web1.url}/api/sync", json={"kind": "full"}, headers=bearer(config, sync_domain)
        )
        assert response.status == 202, await response.text()

        def syncing_products() -> str | None:
            return next((c.host for c in reversed(calls) if c.resource == "products"), None)

        victim_ip = await eventually(
            syncing_products, what="a worker host syncing products", timeout_s=30
        )
        victim = next(w for w in hosts.workers if w.ip == victim_ip)
        survivor = next(w for w in hosts.workers if w is not victim)
        # Hold the tables the effects write: the worker hosts stop inside their transactions
        # (deliveries claimed, the products page unwritten, the sync's lease kept).
        blocker = await asyncpg.connect(
            hosts.cluster.database_url.replace("postgres://", "postgresql://", 1)
        )
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute(
            "LOCK TABLE products, pixel_daily_aggregates IN SHARE ROW EXCLUSIVE MODE"
        )
        try:

            async def victim_holds_deliveries() -> list[int]:
                held = await _held_by(raw, "webhook_deliveries", victim.ip)
                assert held and await _blocked(raw, victim.ip) > 0, f"holds {len(held)}"
                return held

            held = await eventually(
                victim_holds_deliveries, what="the victim inside its transactions", timeout_s=30
            )
            assert not _overlaps(calls), _overlaps(calls)[:3]
            status = await SyncRun.filter(shop_id=sync_shop.id, resource="products").values_list(
                "kind", "status"
            )
            assert ("full", "running") in status, status
            killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
            await asyncio.gather(asyncio.to_thread(web1.kill), asyncio.to_thread(victim.kill))
        finally:
            await lock.rollback()
            await blocker.close()
        await asyncio.sleep(2.0)  # the load goes on through the surviving web host
        stop.set()
        total.merge(await load_task)
    print(
        f"killed {web1.host.name} and {victim.host.name} ({len(held)} claimed deliveries); "
        f"answers {dict(total.statuses)}, {total.failovers} sent again, {total.given_up} given up"
    )

    accepted = total.webhooks

    async def settled() -> bool:
        done = await _done(list(accepted))
        products = sum(
            [
                await Product.filter(shopify_id__in=ids, shop__domain=webhook_shop).count()
                for ids in _chunks(list(accepted.values()))
            ]
        )
        owed = await PixelPending.all().count()
        runs = await SyncRun.filter(shop_id=sync_shop.id, status__in=["pending", "running"]).count()
        synced = await Product.filter(shop_id=sync_shop.id).count()
        assert (done, products, owed, runs, synced) == (
            len(accepted),
            len(accepted),
            0,
            0,
            SYNC_PRODUCTS,
        ), (
            f"{done}/{products} of {len(accepted)} applied; {owed} pixel rows owed; {runs} runs active; {synced} synced"
        )
        return True

    try:
        await eventually(
            settled,
            what="everything accepted applied, the sync finished",
            timeout_s=SETTLE_DEADLINE_S,
            interval_s=0.3,
        )
    finally:
        await runner.cleanup()
        await fake.close()

    # Every 2xx applied exactly once, the killed host's claims included (their transactions
    # died with it; the survivor redid them after their lease).
    # In chunks: a faster machine takes more than a statement's 32,767 parameters.
    attempts = [
        a
        for ids in _chunks(list(accepted))
        for a in await WebhookDelivery.filter(event_id__in=ids).values_list("attempts", flat=True)
    ]
    assert len(attempts) == len(accepted) and set(attempts) == {1}, Counter(attempts)
    redone = await WebhookDelivery.filter(id__in=held).values_list("state", "attempts", "done_at")
    assert all(s == "done" and a == 1 and d > killed_wall for s, a, d in redone), redone
    stored_events = {
        e
        for ids in _chunks(list(total.events))
        for e in await PixelEvent.filter(event_id__in=ids).values_list("event_id", flat=True)
    }
    assert total.events <= stored_events
    for pixel in pixels:
        stored = await PixelEvent.filter(shop_id=pixel.shop_id).count()
        counted = sum(
            await PixelDailyAggregate.filter(shop_id=pixel.shop_id).values_list("count", flat=True)
        )
        assert counted == stored, (pixel.shop_id, counted, stored)
    # The sync: one host at a time; the dead host's lease kept the other off until it ran
    # out (renewed every third of it), then the other resumed the run and finished it.
    assert not _overlaps(calls), _overlaps(calls)[:3]
    after = [c for c in calls if c.resource == "products" and c.start > killed_at]
    assert after and {c.host for c in after} == {survivor.ip}, after[:3]
    waited_s = after[0].start - killed_at
    assert waited_s >= SYNC_LEASE_S / 2, f"the survivor synced {waited_s:.1f} s after the kill"
    assert await Order.filter(shop_id=sync_shop.id).count() == 20
    assert await Customer.filter(shop_id=sync_shop.id).count() == 20
    # Each sync period was scheduled by one worker host only.
    periods = Counter(
        m for w in hosts.workers for m in re.findall(r"sync period (\d+) scheduled", w.output())
    )
    assert len(periods) >= 2 and set(periods.values()) == {1}, periods
    print(
        f"{len(accepted)} deliveries and {len(total.events)} events accepted, each applied once; "
        f"the survivor resumed the sync {waited_s:.1f} s after the kill; periods {len(periods)}"
    )


async def test_a_worker_host_cut_off_the_network_gives_its_claimed_deliveries_back(hosts, db):
    """A worker host that loses power or its network sends nothing more, not even the FIN
    that tells PostgreSQL its sessions are gone: their transactions (the deliveries they
    claimed, locked) must still end, so that the other host applies those deliveries soon
    after, once each."""
    config = hosts.config
    raw = db
    await raw.execute("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
    shop = "mh-cut.myshopify.com"
    await install_shop(config, shop)
    await Shop.filter(domain=shop).update(needs_reauth=True)
    victim, survivor = hosts.workers
    blocker = await asyncpg.connect(
        hosts.cluster.database_url.replace("postgres://", "postgresql://", 1)
    )
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE")
    accepted: dict[str, int] = {}
    try:
        async with aiohttp.ClientSession() as session:
            sender = WebhookSender(session, secret=config.shopify.api_secret.reveal())
            web_host = hosts.webs[1]

            async def victim_holds_deliveries() -> list[int]:
                for product_id in range(len(accepted) + 1, len(accepted) + 21):
                    now = datetime.now(UTC).isoformat()
                    payload = {
                        "id": product_id,
                        "title": "t",
                        "created_at": now,
                        "updated_at": now,
                        "variants": [],
                    }
                    delivery, response = await sender.send(
                        f"{web_host.url}/webhooks", "products/create", shop, payload
                    )
                    assert response.status == 200
                    accepted[delivery.event_id] = product_id
                held = await _held_by(raw, "webhook_deliveries", victim.ip)
                assert held and await _blocked(raw, victim.ip) > 0, f"holds {len(held)}"
                return held

            held = await eventually(
                victim_holds_deliveries, what="the victim inside its transactions", timeout_s=30
            )
            victim.host.cut_off()
            cut_at = time.monotonic()
            await asyncio.to_thread(victim.kill)
    finally:
        await lock.rollback()
        await blocker.close()

    async def applied() -> bool:
        done = await _done(list(accepted))
        assert done == len(accepted), f"{done} of {len(accepted)} applied"
        return True

    # PostgreSQL ends the silent host's sessions (their claims roll back), then the sweeper
    # sends the deliveries again: about the dead-peer timeout, plus their lease and a sweep.
    await eventually(
        applied,
        what="the cut-off host's deliveries applied by the other",
        timeout_s=DEAD_PEER_TIMEOUT_S * 3 + STALE_AFTER_S + 15,
        interval_s=0.5,
        process=survivor.proc,
    )
    took_s = time.monotonic() - cut_at
    # In chunks: a faster machine takes more than a statement's 32,767 parameters.
    attempts = [
        a
        for ids in _chunks(list(accepted))
        for a in await WebhookDelivery.filter(event_id__in=ids).values_list("attempts", flat=True)
    ]
    assert set(attempts) == {1}, Counter(attempts)
    print(
        f"{len(held)} deliveries claimed by the cut-off host applied by the other {took_s:.1f} s after the cut"
    )
