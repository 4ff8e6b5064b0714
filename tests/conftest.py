"""Shared fixtures: real PostgreSQL and Redis (from env, else embedded), configs, app clients.

DATABASE_URL / REDIS_URL name the servers to use (`.ci/run` points them at the machine's
services); when unset, the embedded servers are started for the test session, so the suite
passes on a machine with no servers at all. Every run gets a fresh database with the
migrations applied.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import dramatiq
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware

import server.flows  # noqa: F401  (every flow registers its part, whatever a test imports)
from server.config import Config, load_config
from server.db import apply_migrations
from tests.helpers import WorkerProcess, embedded_base_dir

ROOT = Path(__file__).resolve().parent.parent

# What `--quick` leaves out: the markers of tests that inject faults into real servers, drive
# a browser, start processes of ours, fuzz, or lint and type-check (pyproject.toml says
# which is which). The rest (unit and HTTP tests on real PostgreSQL and Redis) is the quick
# tier; `./test` with no option runs everything, as CI does.
QUICK_LEAVES_OUT = ("slow", "worker")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick",
        action="store_true",
        help="the quick tier: leave out the tests marked " + " or ".join(QUICK_LEAVES_OUT),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--quick"):
        return
    kept, left_out = [], []
    for item in items:
        slow = any(item.get_closest_marker(name) for name in QUICK_LEAVES_OUT)
        (left_out if slow else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def store_servers() -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Redis URL): from env, else embedded for this session."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    from server.embedded import EmbeddedPostgres, EmbeddedRedis

    base = embedded_base_dir()
    pg = EmbeddedPostgres(base) if not database_url else None
    redis = EmbeddedRedis(base, persist=False) if not redis_url else None
    try:
        if pg is not None:
            database_url = pg.start()
        if redis is not None:
            redis_url = redis.start()
        yield database_url, redis_url
    finally:
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(store_servers: tuple[str, str]) -> Iterator[str]:
    """A fresh database for this run, migrated; dropped at the end."""
    server_url, _ = store_servers
    name = f"test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = _with_database(server_url, name)
    try:
        asyncio.run(apply_migrations(url))
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Every table but Aerich's. DELETE, not TRUNCATE: a TRUNCATE of the ~60 tables gives each
# a new file (and its indexes), 0.3-1.8 s per test on this machine; deleting the few rows a
# test left takes ~20 ms. With `session_replication_role = replica` no trigger fires, the
# foreign keys' included, so the order does not matter (the role needs a superuser, which
# both the embedded server's and CI's `postgres` are).
_EMPTY_TABLES_SQL = """
DO $$
DECLARE
    t record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = 'public' AND tablename <> 'aerich' LOOP
        EXECUTE format('DELETE FROM %I', t.tablename);
    END LOOP;
    PERFORM setval(s.oid, q.start_value, false)
       FROM pg_class s JOIN pg_sequences q ON q.schemaname = 'public' AND q.sequencename = s.relname
      WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace;
END
$$
"""


# What a connection that PostgreSQL ended (a test's DatabaseDown) raises at its next use.
_CUT_CONNECTION = (
    asyncpg.InterfaceError,  # ConnectionDoesNotExistError among them
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    ConnectionError,
)


class _TableEmptier:
    """Empties the run's database before each test on one connection kept for the run, on a
    loop of its own (a test's loop may already run in the calling thread): a connection per
    test costs more than the DELETEs. A test that cut the database's connections (a
    DatabaseDown) leaves it closed; the next call connects again."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="db-emptier", daemon=True)
        self.thread.start()
        self.connection: Any = None

    async def _empty(self) -> None:
        for attempt in (1, 2):
            if self.connection is None or self.connection.is_closed():
                self.connection = await asyncpg.connect(self.url)
            try:
                await self.connection.execute(_EMPTY_TABLES_SQL)
                return
            except _CUT_CONNECTION:
                self.connection = None  # cut since the last test: once more, connected anew
                if attempt == 2:
                    raise

    def empty(self) -> None:
        asyncio.run_coroutine_threadsafe(self._empty(), self.loop).result()

    def close(self) -> None:
        if self.connection is not None and not self.connection.is_closed():
            asyncio.run_coroutine_threadsafe(self.connection.close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture(scope="session")
def _table_emptier(database_url: str) -> Iterator[_TableEmptier]:
    emptier = _TableEmptier(database_url)
    yield emptier
    emptier.close()


@pytest.fixture(scope="session")
def _sync_redis(redis_url: str) -> Iterator[Any]:
    import redis

    with redis.Redis.from_url(redis_url) as client:
        yield client


@pytest.fixture
def clean_database(database_url: str, _table_emptier: _TableEmptier, _sync_redis: Any) -> str:
    """The run's database, emptied (every table but Aerich's) before the test.

    Ids restart at 1, so the API cache (keyed by shop id) is emptied too: a page an earlier
    test cached for shop 1 must not answer for this test's shop 1.
    """
    _table_emptier.empty()
    keys = list(_sync_redis.scan_iter(match="api:*", count=1000))
    if keys:
        _sync_redis.delete(*keys)
    return database_url


_REDIS_CLAIM = "test-run:claim"


@pytest.fixture(scope="session")
def redis_url(store_servers: tuple[str, str]) -> Iterator[str]:
    """The run's Redis. An embedded one is the run's alone; on a shared server (REDIS_URL
    set) the run claims a logical database of its own (1-15), so runs that share the server
    never see each other's keys (caches, leases, locks, rate limits are keyed by shop id or
    domain, which every run reuses). The database is emptied when claimed and when done."""
    url = store_servers[1]
    if not os.environ.get("REDIS_URL"):
        yield url
        return
    import redis

    token = uuid.uuid4().hex
    parts = urlsplit(url)
    for db in range(1, 16):
        candidate = urlunsplit(parts._replace(path=f"/{db}"))
        with redis.Redis.from_url(candidate) as client:
            if not client.set(_REDIS_CLAIM, token, nx=True, ex=6 * 3600):
                continue
            _empty_but_claim(client)
        try:
            yield candidate
        finally:
            with redis.Redis.from_url(candidate) as client:
                _empty_but_claim(client)
                client.delete(_REDIS_CLAIM)
        return
    pytest.fail("every Redis database 1-15 is claimed by another test run")


def _empty_but_claim(client: Any) -> None:
    keys = [k for k in client.scan_iter(count=1000) if k != _REDIS_CLAIM.encode()]
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


@pytest.fixture(scope="session")
def secrets_env() -> dict[str, str]:
    """Secrets for the test run (made fresh, never from a file)."""
    return {
        "SHOPIFY_API_KEY": "test-api-key",
        "SHOPIFY_API_SECRET": "test-api-secret-" + uuid.uuid4().hex,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_SECRET": Fernet.generate_key().decode(),
    }


@pytest.fixture(scope="session")
def broker_namespace(redis_url: str) -> Iterator[str]:
    """Queues of this run only: a shared Redis may hold other runs' (or a bench's) messages,
    which this run's real workers must never pick up. Deleted at the end."""
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    yield namespace
    import redis

    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{namespace}:*"))
        if keys:
            client.delete(*keys)


# Store URLs no pure test may reach: a closed port fails at once, never a hang.
NO_DATABASE_URL = "postgres://postgres@127.0.0.1:1/no-database"
NO_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def pure_env(secrets_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """base_env for pure tests (config parsing, broker kinds...): store URLs that point at a
    closed port, and no fixture that creates, empties or even connects to PostgreSQL/Redis."""
    return {
        **secrets_env,
        "APP_ENV": "production",
        "DATABASE_URL": NO_DATABASE_URL,
        "REDIS_URL": NO_REDIS_URL,
        "BROKER_NAMESPACE": "test-pure",
        "SHOPIFY_APP_URL": "https://app.example.test",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "INFO",
        # One web process per `serve` in tests (production's default is one per core):
        # tests/test_serve_processes.py asks for more.
        "WEB_PROCESSES": "1",
    }


@pytest.fixture
def base_env(
    pure_env: dict[str, str], clean_database: str, redis_url: str, broker_namespace: str
) -> dict[str, str]:
    """The environment a test process of ours would get: real stores (the database emptied
    for this test), test secrets, this run's broker namespace."""
    return {
        **pure_env,
        "DATABASE_URL": clean_database,
        "REDIS_URL": redis_url,
        "BROKER_NAMESPACE": broker_namespace,
    }


def _config_factory(env: dict[str, str]) -> Callable[..., Config]:
    def make(**overrides: str) -> Config:
        return load_config({**env, **overrides})

    return make


@pytest.fixture
def make_config(base_env: dict[str, str]) -> Callable[..., Config]:
    """Build a Config from the base env plus overrides."""
    return _config_factory(base_env)


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture
def make_pure_config(pure_env: dict[str, str]) -> Callable[..., Config]:
    """make_config for pure tests: no PostgreSQL or Redis is touched."""
    return _config_factory(pure_env)


@pytest.fixture
def pure_config(make_pure_config: Callable[..., Config]) -> Config:
    return make_pure_config()


def _stub_requeue(self: Any, messages: Iterable[Any]) -> None:
    """Dramatiq's StubBroker consumer has the base no-op `requeue`: a message a stopping
    worker had taken but not run is lost, and its queue's `join` never returns (the take
    was never settled). Put each back on its queue, then settle the first take."""
    for proxy in messages:
        self.queue.put(proxy._message.encode())
        self.queue.task_done()
        self.prefetch_semaphore.release()


@pytest.fixture
def stub_broker(config: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    """A StubBroker with our middleware and every actor bound to it."""
    from dramatiq.brokers.stub import _StubConsumer

    from actors.broker import setup_broker

    monkeypatch.setattr(_StubConsumer, "requeue", _stub_requeue)
    broker = setup_broker(config, stub=True)
    assert isinstance(broker, StubBroker)
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


class _TestLoopThread(EventLoopThread):
    """Dramatiq's event-loop thread, but the loop is the test's own (already running): async
    actors run beside the app under test, on its database pool and its fake Shopify."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        threading.Thread.__init__(self, daemon=True)  # never started: no loop of its own
        self.loop = loop
        self.interrupt_check_ival = 0.1
        self.logger = logging.getLogger(__name__)


class _OnTheTestLoop(Middleware):
    """In place of AsyncIO + WorkerPools for an in-process test Worker: actors run on the
    test's loop with the worker pools open but no second Tortoise (the app has it), and a
    message that raises is dead-lettered at once (no retry backoff to wait out)."""

    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.loop_thread = _TestLoopThread(loop)

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from actors.resources import open_resources

        set_event_loop_thread(self.loop_thread)
        self.loop_thread.run_coroutine(open_resources(self.config, database=False))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from actors.resources import close_resources

        self.loop_thread.run_coroutine(close_resources(database=False))
        set_event_loop_thread(None)

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        message.options["max_retries"] = 0


# How long a drain waits for its queues, and then for the worker to stop (ms).
DRAIN_TIMEOUT_MS = 180_000
STOP_TIMEOUT_MS = 10_000


class StubWorker:
    """Runs what is queued on the test's StubBroker with a real Dramatiq `Worker`."""

    def __init__(self, broker: StubBroker, config: Config) -> None:
        self.broker = broker
        self.config = config
        self._swapped = False

    def _run(self, names: tuple[str, ...], loop: asyncio.AbstractEventLoop, *, only: bool) -> None:
        from actors.middleware import WorkerPools

        if not self._swapped:
            self.broker.middleware[:] = [
                _OnTheTestLoop(self.config, loop) if isinstance(m, AsyncIO) else m
                for m in self.broker.middleware
                if not isinstance(m, WorkerPools)
            ]
            self._swapped = True
        worker = dramatiq.Worker(
            self.broker,
            queues=set(names) if only and names else None,
            worker_threads=1,
            worker_timeout=100,
        )
        worker.start()
        try:
            for name in names or tuple(sorted(self.broker.get_declared_queues())):
                # Bounded below pytest's own timeout: a message that never ends fails the
                # test here (QueueJoinTimeout) instead of leaving this thread waiting, which
                # would hang the loop's teardown (it waits for the executor's threads).
                self.broker.join(name, fail_fast=True, timeout=DRAIN_TIMEOUT_MS)
            worker.join()
        finally:
            worker.stop(timeout=STOP_TIMEOUT_MS)

    async def drain(self, *queues: str, only: bool = False) -> None:
        """Every message on `queues` (all declared queues if none) processed, with what they
        sent on to those queues; a message that raised fails the test with its exception.
        `only`: the worker consumes these queues alone (the others wait, as behind a busy
        pool), so a test decides which queue's worker runs first.

        Dramatiq's own test pattern (a Worker, `broker.join(queue)`, `worker.join()`), run off
        the loop while the actors run on it. The worker stops before this returns: nothing
        runs in the background between two drains."""
        await asyncio.to_thread(self._run, queues, asyncio.get_running_loop(), only=only)


@pytest.fixture
def stub_worker(stub_broker: StubBroker, config: Config) -> StubWorker:
    """`await stub_worker.drain("sync")`: a real Dramatiq Worker runs what the app queued on
    the stub broker, on the test's loop (the app under test, e.g. the `client` fixture, must
    be up: its database pool is the one the actors use)."""
    return StubWorker(stub_broker, config)


class EdgeTestServer(TestServer):
    """The app served as `python -m server` serves it (server/web/edge.py's runner)."""

    def __init__(self, app: web.Application, *, limits: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_runner(self, **kwargs: Any) -> Any:
        from server.web.edge import make_runner

        return make_runner(self.app, self._limits, **kwargs)


@pytest.fixture
async def make_client(
    aiohttp_client: Callable[..., Any], stub_broker: StubBroker
) -> Callable[..., Any]:
    """Start the real app (real PostgreSQL and Redis, stub broker) for a config."""

    async def make(
        config: Config, *, setup: Callable[[web.Application], None] | None = None
    ) -> TestClient[Any, Any]:
        from redis.asyncio import Redis

        # Each test starts with full rate-limit buckets (they live in Redis, per namespace).
        from redis.exceptions import ConnectionError as RedisDown

        from server.web.app import create_app
        from server.web.serve import JsonAccessLogger

        try:
            async with Redis.from_url(config.redis.url) as redis:
                pattern = f"ratelimit:{config.broker.namespace}:*"
                stale = [k async for k in redis.scan_iter(match=pattern)]
                if stale:
                    await redis.delete(*stale)
        except RedisDown:
            pass  # a test of an unreachable Redis
        app = create_app(config, broker=stub_broker)
        if setup is not None:
            setup(app)
        server = EdgeTestServer(app, limits=config.limits)
        # The access logger the real server uses (so logging tests see its lines).
        await server.start_server(access_log_class=JsonAccessLogger)
        client: TestClient[Any, Any] = await aiohttp_client(server)
        return client

    return make


@pytest.fixture
async def client(make_client: Callable[..., Any], config: Config) -> TestClient[Any, Any]:
    """The app on the test config."""
    result: TestClient[Any, Any] = await make_client(config)
    return result


@pytest.fixture
def redis_broker(config: Config) -> Iterator[dramatiq.Broker]:
    """A real Redis broker for the test's config (for tests with a real worker)."""
    from actors.broker import setup_broker

    broker = setup_broker(config)
    yield broker
    broker.close()


@pytest.fixture
async def make_worker_client(
    aiohttp_client: Callable[..., Any],
) -> AsyncIterator[Callable[[Config], Awaitable[TestClient[Any, Any]]]]:
    """`await make_worker_client(config)`: the app on a real Redis broker (every actor bound
    to it), for tests whose messages a real worker (`start_worker`) takes."""
    from actors.broker import setup_broker
    from server.web.app import create_app

    brokers: list[dramatiq.Broker] = []

    async def make(config: Config) -> TestClient[Any, Any]:
        broker = setup_broker(config)
        brokers.append(broker)
        client: TestClient[Any, Any] = await aiohttp_client(create_app(config, broker=broker))
        return client

    yield make
    for broker in brokers:
        broker.close()


@pytest.fixture
async def start_worker(base_env: dict[str, str]) -> AsyncIterator[Callable[..., WorkerProcess]]:
    """Factory of real `python -m server worker` pools:
    `start_worker(env_overrides, processes=1, threads=2, queues=())` starts one on base_env
    plus the overrides (the test's own broker namespace, its clean database). A pool still
    running at teardown is stopped off the event loop (a fake Shopify on this loop keeps
    answering its in-flight calls); stop it yourself (`await worker.stop_async()`) to assert
    its exit code or read its output."""
    started: list[WorkerProcess] = []

    def start(
        env: dict[str, str] | None = None,
        *,
        processes: int = 1,
        threads: int = 2,
        queues: tuple[str, ...] = (),
    ) -> WorkerProcess:
        worker = WorkerProcess(
            {**base_env, **(env or {})}, processes=processes, threads=threads, queues=queues
        )
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        await worker.stop_async()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def fake(
    aiohttp_server: Callable[..., Any], secrets_env: dict[str, str]
) -> AsyncIterator[Any]:
    """The fake Shopify on loopback, with this run's app key and secret.

    Fails the test if the app sent it any GraphQL operation invalid against the real schema.
    """
    from tests.fake_shopify import FakeShopify

    shopify = FakeShopify(
        api_key=secrets_env["SHOPIFY_API_KEY"],
        api_secret=secrets_env["SHOPIFY_API_SECRET"],
        restore_rate=50_000.0,
    )
    server = await aiohttp_server(shopify.app())
    shopify.base_url = str(server.make_url("")).rstrip("/")
    yield shopify
    await shopify.close()
    assert not shopify.invalid_operations, f"invalid GraphQL sent: {shopify.invalid_operations}"


@pytest.fixture
def shop_config(make_config: Callable[..., Config], fake: Any) -> Config:
    """The app's config pointed at the fake Shopify (plain http app URL for the cookie jar)."""
    return make_config(
        SHOPIFY_ADMIN_ORIGIN=fake.admin_origin,
        SHOPIFY_APP_URL="http://127.0.0.1:8080",
        SCOPES="read_products,read_orders,read_customers,write_pixels",
    )


@pytest.fixture
async def shop_client(make_client: Callable[..., Any], shop_config: Config) -> TestClient[Any, Any]:
    """The app on the fake Shopify."""
    result: TestClient[Any, Any] = await make_client(shop_config)
    return result


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log_line(
    secrets_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Every log record of the run, as our JSON formatter writes it, into one file; at the
    end none of the run's secrets may be in it, nor in any worker subprocess's output: the
    app's secret and keys, and every token and webhook HMAC a fake Shopify made."""
    import logging

    from server.logs import JsonFormatter
    from tests.fake_shopify.registry import ISSUED_SECRETS
    from tests.helpers import PROCESS_OUTPUTS

    path = tmp_path_factory.mktemp("run-log") / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield
    root.removeHandler(handler)
    root.setLevel(level)
    handler.close()
    text = path.read_text(encoding="utf-8") + "\n".join(PROCESS_OUTPUTS)
    secrets = {v for k, v in secrets_env.items() if k != "SHOPIFY_API_KEY"} | ISSUED_SECRETS
    leaked = sorted(s[:8] + "..." for s in secrets if len(s) >= 8 and s in text)
    assert not leaked, f"secrets reached the logs: {leaked}"
