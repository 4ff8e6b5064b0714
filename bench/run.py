"""The hot-path bench: `wrk` against a bare aiohttp+orjson handler and the app as shipped.

    python bench/run.py [--rev REV] [--connections 16 64 128] [--runs 3] [--duration-s 5]
                        [--paths webhooks pixel1 pixel20] [--processes N]

One command, in one run and on one machine:

* the bare handler (aiohttp + orjson on uvloop, the app's stack without the app: read the
  body, parse it, answer a small JSON) and `python -m server serve` (default config.toml,
  APP_ENV=production, access log on, every middleware) are each pinned to the same core;
  `wrk` (one thread) runs pinned to the other core, and so does the worker pool
  (`python -m server worker`, the default pool), which runs during the app's runs as it
  does in production; its CPU use is measured and reported;
* paths: `POST /webhooks` (signed products/create deliveries over 64 installed shops, a
  distinct event id per request), `POST /pixel/events` with 1 and with 20 events per post
  (distinct event ids per request). For the pixel, CONFIG_FILE lifts only the pixel rate
  limits (a capacity run would otherwise measure the limiter's 429s); the webhook limit
  per shop stays as shipped;
* each connection count is run `--runs` times: median and min-max of the rate and of p99;
* then the exactly-once accounting: the database holds exactly the accepted items, each
  once (rows == the app's own count of 2xx answers in /metrics, and >= wrk's count of 2xx
  it read: wrk closes its connections at the end of a run, so a request answered at that
  moment is stored but not counted by wrk);
* then, with `--processes N` (default: one per core), the same tree with N web processes
  (`WEB_PROCESSES`), nothing pinned: the whole machine's total;
* `--rev REV` checks REV out in a temporary `git worktree` and measures it the same way in
  the same run (its own database, migrated by its own code), so before/after figures
  come from one run.

Writes bench/results/report.md, report.png (rate and p99 per connection count) and
results.json. Needs `wrk` (installed from Debian's package when missing and possible),
`taskset`, and matplotlib for the plot (installed from bench/requirements.txt when
missing). DATABASE_URL / REDIS_URL name a PostgreSQL server and a Redis; unset, embedded
ones start for the run. A fresh database is made per measured tree and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk" / "post.lua"
WEBHOOK_SHOPS = 64  # deliveries spread over this many shops, as Shopify's would be
WEBHOOK_POOL = 512  # pre-signed bodies (one product each)
WEBHOOK_TOPIC = "products/create"
WARMUP_S = 2
DRAIN_TIMEOUT_S = 120
PATHS = ("webhooks", "pixel1", "pixel20")  # the report's order
# The order of the runs: the webhook deliveries leave the workers a backlog to apply after
# the load stops; measured last, it does not run under the pixel's figures.
RUN_ORDER = ("pixel1", "pixel20", "webhooks")
PATH_LABELS = {
    "webhooks": "POST /webhooks",
    "pixel1": "POST /pixel/events, 1 event",
    "pixel20": "POST /pixel/events, 20 events",
}
# Every path runs on the bare handler and the floor too: each ratio is item for item.
BARE_PATHS = ("webhooks", "pixel1", "pixel20")


def say(message: str) -> None:
    """Progress on stderr (stdout carries the report)."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ tools


def ensure_wrk() -> str:
    """The wrk binary; installs Debian's package when missing and possible, else stops."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        say("wrk is missing: installing Debian's package")
        subprocess.run([apt, "update", "-qq"], check=False, capture_output=True)
        subprocess.run(
            [apt, "install", "-y", "-qq", "wrk"],
            check=False,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("bench: wrk is not installed; install it first (Debian: apt-get install wrk)")


def ensure_matplotlib() -> None:
    """matplotlib for the plot (bench only: not in the runtime lock)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        say("matplotlib is missing: installing bench/requirements.txt")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(ROOT / "bench" / "requirements.txt"),
            ],
            check=True,
        )


def cpus() -> tuple[str | None, str | None]:
    """(server core, load core): two distinct cores, or (None, None) to run unpinned."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2 or not shutil.which("taskset"):
        return None, None
    return str(available[0]), str(available[1])


def pinned(cpu: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if cpu is not None else argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http://127.0.0.1)
                if response.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not come up in {timeout_s:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (started with start_new_session), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in a process group."""
    return cpu_snapshot({"group": pgid}, stores=False)["group"]


# Where a run's CPU goes: the server's and the workers' process groups, the stores' own
# processes (found by main(): PostgreSQL's postmaster and its children, redis-server), wrk,
# and the rest of the machine. PostgreSQL's share is split by whose session ran it (the app
# names its connections: server/db.py APPLICATION_NAMES); "pg rest" is its background
# processes and other sessions.
CPU_PARTS = ("web", "workers", "pg web", "pg workers", "pg rest", "redis", "wrk", "other")
PG_ROLES = {"shopify-app web": "pg web", "shopify-app worker": "pg workers"}
STORE_PIDS: dict[str, int] = {}
STORE_URLS: dict[str, str] = {}


def _local_process(pid: int, name: str) -> bool:
    """Whether `pid` is a process of this machine named `name` (a store on another host
    reports a pid that means nothing here, or another process)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == name
    except OSError:
        return False


def store_pids(server_url: str, redis_url: str) -> dict[str, int]:
    """The PostgreSQL postmaster's pid (the parent of a backend) and redis-server's pid,
    when they run on this machine (else their CPU is left out of the table)."""
    import redis

    async def postmaster() -> int | None:
        import asyncpg

        conn = await asyncpg.connect(_pg(server_url))
        try:  # read while the backend lives
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            if not _local_process(backend, "postgres"):
                return None
            with open(f"/proc/{backend}/stat") as f:  # noqa: ASYNC230 (procfs, no disk)
                stat = f.read()
        finally:
            await conn.close()
        return int(stat[stat.rindex(")") + 2 :].split()[1])  # field 4: ppid

    pids = {}
    postgres = asyncio.run(postmaster())
    if postgres is not None:
        pids["postgres"] = postgres
    client = redis.Redis.from_url(redis_url)
    try:
        redis_pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    if _local_process(redis_pid, "redis-server"):
        pids["redis"] = redis_pid
    for store in ("postgres", "redis"):
        if store not in pids:
            say(f"{store} does not run on this machine: its CPU is not in the report's table")
    return pids


def _pg_sessions() -> dict[int, str]:
    """The app's PostgreSQL backends now: pid -> "pg web" or "pg workers"."""
    if "postgres" not in STORE_URLS:
        return {}

    async def read() -> dict[int, str]:
        import asyncpg

        conn = await asyncpg.connect(_pg(STORE_URLS["postgres"]))
        try:
            rows = await conn.fetch("SELECT pid, application_name FROM pg_stat_activity")
        finally:
            await conn.close()
        return {
            r["pid"]: PG_ROLES[r["application_name"]]
            for r in rows
            if r["application_name"] in PG_ROLES
        }

    return asyncio.run(read())


def cpu_snapshot(groups: dict[str, int], *, stores: bool = True) -> dict[str, float]:
    """CPU seconds so far: each named process group (by pgid), each store unless `stores`
    is False (STORE_PIDS: the process, its children, and its exited children; PostgreSQL's
    backends by whose session they serve), and the machine's busy time."""
    ticks = os.sysconf("SC_CLK_TCK")
    by_pgid = {pgid: name for name, pgid in groups.items()}
    store_pids = STORE_PIDS if stores else {}
    by_pid = {pid: name for name, pid in store_pids.items()}
    sessions = _pg_sessions() if stores else {}
    totals = dict.fromkeys([*groups, *store_pids, *(PG_ROLES.values() if stores else ())], 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields_ = stat[stat.rindex(")") + 2 :].split()
        own = int(fields_[11]) + int(fields_[12])  # utime, stime
        if int(fields_[2]) in by_pgid:  # field 5 of stat: pgrp
            totals[by_pgid[int(fields_[2])]] += own
        elif int(entry.name) in by_pid:  # + cutime, cstime: its exited children
            totals[by_pid[int(entry.name)]] += own + int(fields_[13]) + int(fields_[14])
        elif int(entry.name) in sessions:  # an app's PostgreSQL backend
            totals[sessions[int(entry.name)]] += own
        elif int(fields_[1]) in by_pid:  # field 4: ppid
            totals[by_pid[int(fields_[1])]] += own
    seconds = {name: value / ticks for name, value in totals.items()}
    if "postgres" in seconds:
        seconds["pg rest"] = seconds.pop("postgres")
    with open("/proc/stat") as f:
        jiffies = [int(x) for x in f.readline().split()[1:]]
    seconds["machine"] = (sum(jiffies[:8]) - jiffies[3] - jiffies[4]) / ticks  # - idle, iowait
    return seconds


def cpu_used(before: dict[str, float], after: dict[str, float], wrk_s: float) -> dict[str, float]:
    """The CPU seconds each part used between two snapshots (wrk's measured apart)."""
    used = {name: max(0.0, after[name] - before[name]) for name in after}
    used["wrk"] = wrk_s
    named = sum(v for k, v in used.items() if k not in ("machine", "other"))
    used["other"] = max(0.0, used["machine"] - named)
    return used


# ------------------------------------------------------------------ bare handler


def serve_bare(port: int) -> None:
    """The baseline: aiohttp + orjson on uvloop; read and parse the body, answer small JSON."""
    import orjson
    import uvloop
    from aiohttp import web

    async def webhooks(request: web.Request) -> web.Response:
        orjson.loads(await request.read())
        return web.Response(body=b'{"status":"queued"}', content_type="application/json")

    async def pixel(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        return web.Response(
            status=202,
            body=orjson.dumps({"accepted": len(body["events"]), "rejected": []}),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/webhooks", webhooks)
    app.router.add_post("/pixel/events", pixel)
    uvloop.run(web._run_app(app, host="127.0.0.1", port=port, print=None, access_log=None))


# ------------------------------------------------------------------ load data


def signed_deliveries(
    *, secret: str, shops: list[str], now: datetime
) -> list[tuple[str, str, str]]:
    """(body, X-Shopify-Hmac-Sha256, shop) of WEBHOOK_POOL products/create deliveries."""
    import base64
    import hashlib
    import hmac

    entries = []
    for n in range(WEBHOOK_POOL):
        product_id = 7_000_000_000 + n
        body = json.dumps(
            {
                "id": product_id,
                "admin_graphql_api_id": f"gid://shopify/Product/{product_id}",
                "title": f"Bench product {n}",
                "handle": f"bench-product-{n}",
                "status": "active",
                "vendor": "bench",
                "product_type": "",
                "tags": "",
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "variants": [],
            },
            separators=(",", ":"),
        )
        digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
        entries.append((body, signature, shops[n % len(shops)]))
    return entries


def webhook_data(path: Path, *, secret: str, shops: list[str]) -> None:
    """The Lua pool of pre-signed products/create bodies spread over `shops`."""
    now = datetime.now(UTC)
    entries = signed_deliveries(secret=secret, shops=shops, now=now)
    lua = ["return {", '  path = "/webhooks",', f'  topic = "{WEBHOOK_TOPIC}",']
    lua.append('  api_version = "2026-10",')
    lua.append(f'  triggered_at = "{now.strftime("%Y-%m-%dT%H:%M:%S.000Z")}",')
    lua.append("  pool = {")
    lua.extend(
        f"    {{{_lua_str(body)}, {_lua_str(sig)}, {_lua_str(shop)}}},"
        for body, sig, shop in entries
    )
    lua.append("  },")
    lua.append("}")
    path.write_text("\n".join(lua) + "\n")


def pixel_pieces(key: str) -> dict[str, str]:
    """The pieces wrk assembles each pixel body from.

    A body is `head`, then per event `event_head` + id + `event_mid` + seq + `event_tail`
    (events joined by commas), then `]}`.
    """
    template = {
        "id": "@ID@",
        "name": "product_viewed",
        "timestamp": datetime.now(UTC).isoformat(),
        "clientId": "bench-client",
        "seq": 0,
        "type": "standard",
        "context": {
            "document": {"location": {"href": "https://shop.example/products/a?variant=1"}},
            "navigator": {"language": "en", "userAgent": "bench"},
        },
        "data": {"productVariant": {"id": "1", "price": {"amount": 10.0, "currencyCode": "EUR"}}},
    }
    text = json.dumps(template, separators=(",", ":"))
    head, rest = text.split('"@ID@"')
    mid, tail = rest.split('"seq":0')
    body_head = json.dumps(
        {"accountID": key, "version": "bench", "events": []}, separators=(",", ":")
    )[:-2]
    pieces = {
        "head": body_head,  # '{"accountID":...,"events":['
        "event_head": head + '"',  # the event id follows
        "event_mid": '"' + mid + '"seq":',  # the sequence number follows
        "event_tail": tail,
    }
    return pieces


def pixel_data(path: Path, *, key: str) -> None:
    """The Lua file of the pixel body's pieces (event ids come from wrk's counter)."""
    lua = ["return {", '  path = "/pixel/events",']
    lua += [f"  {name} = {_lua_str(value)}," for name, value in pixel_pieces(key).items()]
    lua.append("}")
    path.write_text("\n".join(lua) + "\n")


def _lua_str(value: str) -> str:
    """A Lua long-bracket string literal (no escapes needed for JSON text)."""
    level = "="
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


# ------------------------------------------------------------------ wrk


@dataclass
class Run:
    """One wrk run's figures."""

    connections: int
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    accepted_events: int
    statuses: dict[str, int]
    errors: dict[str, int]
    # CPU seconds each part used during the run (CPU_PARTS, and "machine": all busy time).
    cpu: dict[str, float] = field(default_factory=dict)
    # Pixel runs of the app: seconds from the run's end until no event awaits aggregation.
    lag_s: float | None = None

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("2"))

    def rate(self, path: str) -> float:
        """Items per second: deliveries, or accepted events for the pixel."""
        items = self.accepted_events if path.startswith("pixel") else self.ok
        return items / self.duration_s

    def request_rate(self) -> float:
        return self.ok / self.duration_s


def run_wrk(
    wrk: str,
    cpu: str | None,
    *,
    url: str,
    path: str,
    connections: int,
    duration_s: float,
    data_file: Path,
    prefix: str,
    groups: dict[str, int] | None = None,
) -> Run:
    """One wrk run (one thread, pinned); its BENCH_JSON line parsed, and the CPU each part
    of the machine used meanwhile (`groups`: the measured server's process groups)."""
    mode = "webhooks" if path == "webhooks" else "pixel"
    per_post = "20" if path == "pixel20" else "1"
    argv = pinned(
        cpu,
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{duration_s:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            url,
            "--",
            mode,
            prefix,
            str(data_file),
            per_post,
        ],
    )
    cpu_before = cpu_snapshot(groups or {})
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = cpu_snapshot(groups or {})
    wrk_s = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk failed ({result.returncode}): {result.stderr[-500:]}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    return Run(
        connections=connections,
        requests=figures["requests"],
        duration_s=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        accepted_events=figures["accepted"],
        statuses={str(k): v for k, v in figures["statuses"].items()},
        errors=figures["errors"],
        cpu=cpu_used(cpu_before, cpu_after, wrk_s),
    )


@dataclass
class Target:
    """One measured server: the bare handler, this tree's app, or --rev's."""

    label: str
    kind: str  # "bare" | "app"
    tree: Path | None = None
    rev: str = ""
    runs: dict[str, list[Run]] = field(default_factory=dict)
    warmups: dict[str, list[Run]] = field(default_factory=dict)
    accounting: dict[str, Any] = field(default_factory=dict)
    worker_cpu_share: float | None = None
    settle_s: dict[str, float] = field(default_factory=dict)
    # The app's: the webhook backlog applied by the pool started after the intake run, the
    # intake and the pool running together, and the pixel aggregation's lag.
    apply: dict[str, Any] = field(default_factory=dict)


def measure(
    target: Target,
    wrk: str,
    cpu: str | None,
    *,
    base_url: str,
    paths: tuple[str, ...],
    connections: list[int],
    runs: int,
    duration_s: float,
    data: dict[str, Path],
    groups: dict[str, int],
    settle: Callable[[], float] | None = None,
    after_run: Callable[[Run], None] | None = None,
) -> None:
    """Warm up, then every path x connection count x run, interleaving the runs.

    `settle` (the app's) waits, before each path, until the workers are idle again;
    `after_run` reads what follows each run (the pixel aggregation's lag).
    """
    tag = uuid.uuid4().hex[:6]
    for path in paths:
        if settle is not None:
            target.settle_s[path] = round(settle(), 1)
        url = base_url + ("/webhooks" if path == "webhooks" else "/pixel/events")
        mode_data = data["webhooks" if path == "webhooks" else "pixel"]
        target.warmups[path] = [
            run_wrk(
                wrk,
                cpu,
                url=url,
                path=path,
                connections=64,
                duration_s=WARMUP_S,
                data_file=mode_data,
                prefix=f"{tag}-{path}-w-",
            )
        ]
        target.runs[path] = []
        for n in range(runs):
            for c in connections:
                run = run_wrk(
                    wrk,
                    cpu,
                    url=url,
                    path=path,
                    connections=c,
                    duration_s=duration_s,
                    data_file=mode_data,
                    prefix=f"{tag}-{path}-{n}-{c}-",
                    groups=groups,
                )
                target.runs[path].append(run)
                if after_run is not None:
                    after_run(run)
                say(
                    f"{target.label:<14} {path:<8} c={c:<4} run {n + 1}: "
                    f"{run.rate(path):8.0f}/s p99 {run.p99_ms:6.1f} ms statuses {run.statuses}"
                )


# ------------------------------------------------------------------ stores and app trees


@contextmanager
def stores(base: Path) -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Redis URL): the environment's, or embedded ones."""
    started: list[Any] = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    try:
        if not database_url or not redis_url:
            sys.path.insert(0, str(ROOT))
            from server.embedded import EmbeddedPostgres, EmbeddedRedis

            if not database_url:
                pg = EmbeddedPostgres(base / "pg")
                database_url = pg.start()
                started.append(pg)
            if not redis_url:
                redis = EmbeddedRedis(base / "redis", persist=False)
                redis_url = redis.start()
                started.append(redis)
        yield database_url, redis_url
    finally:
        for store in reversed(started):
            store.stop()


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class AppSetup:
    env: dict[str, str]
    database_url: str
    shops: list[str]
    ingest_key: str
    secret: str


async def create_database(server_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(_pg(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def prepare_app(tree: Path, label: str, *, server_url: str, redis_url: str, tmp: Path) -> AppSetup:
    """A fresh database migrated by the tree's own code, shops and an active pixel in it."""
    from cryptography.fernet import Fernet

    name = f"bench_{label}_{uuid.uuid4().hex[:6]}"
    asyncio.run(create_database(server_url, name))
    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    secret = secrets.token_hex(16)
    config = (tree / "config.toml").read_text()
    # The pixel's rate limits lifted for a capacity run; nothing else changes.
    for key in ("shop_events_per_s", "shop_burst_events", "ip_requests_per_s", "ip_burst_requests"):
        config = re.sub(rf"(?m)^{key} = \d+", f"{key} = 100000000", config)
    config_path = tmp / f"config-{label}.toml"
    config_path.write_text(config)
    env = {
        **os.environ,
        "CONFIG_FILE": str(config_path),
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_NAMESPACE": f"bench-{label}-{uuid.uuid4().hex[:6]}",
        "SHOPIFY_API_KEY": "bench",
        "SHOPIFY_API_SECRET": secret,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_SECRET": Fernet.generate_key().decode(),
        "VAR_DIR": str(tmp / f"var-{label}"),
        "PYTHONPATH": str(tree),
        # One web process against the bare handler on the same core (per-core figures);
        # --processes measures the N-process total separately.
        "WEB_PROCESSES": "1",
    }
    for var in ("LOG_LEVEL", "LOG_FILE", "PORT", "HOST"):
        env.pop(var, None)
    migrate = subprocess.run(
        [sys.executable, "-m", "server", "migrate"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if migrate.returncode:
        raise SystemExit(f"bench: migrate failed in {tree}: {migrate.stderr[-1000:]}")
    shops = [f"bench-{n}.myshopify.com" for n in range(WEBHOOK_SHOPS)]
    key = asyncio.run(seed(database_url, shops))
    return AppSetup(env=env, database_url=database_url, shops=shops, ingest_key=key, secret=secret)


async def seed(database_url: str, shops: list[str]) -> str:
    """Installed shops (webhooks go to them) and the first one's active pixel; its key."""
    import asyncpg

    db = await asyncpg.connect(_pg(database_url))
    now = datetime.now(UTC)
    try:
        ids = [
            await db.fetchval(
                "INSERT INTO shops (domain, scopes, needs_reauth, installed_at, created_at, "
                "updated_at, name, currency_code) VALUES ($1, '', false, $2, $2, $2, '', '') "
                "RETURNING id",
                shop,
                now,
            )
            for shop in shops
        ]
        key = secrets.token_urlsafe(24)
        await db.execute(
            "INSERT INTO web_pixels (shop_id, ingest_key, status, settings, created_at, "
            "updated_at) VALUES ($1, $2, 'active', '{}', $3, $3)",
            ids[0],
            key,
            now,
        )
    finally:
        await db.close()
    return key


async def quiet(database_url: str, *, timeout_s: float = 90) -> float:
    """Wait until no query runs in the database for 2 s (the workers' backlog is done).

    Each path starts from idle workers, so one path's backlog (deliveries to apply, pixel
    days to aggregate) does not run under the next path's figures. Seconds waited.
    """
    import asyncpg

    started = time.monotonic()
    db = await asyncpg.connect(_pg(database_url))
    try:
        idle_since = None
        while time.monotonic() - started < timeout_s:
            busy = await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
            now = time.monotonic()
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await db.close()
    return time.monotonic() - started


def metrics_2xx(base_url: str) -> dict[str, int]:
    """The app's own count of 2xx answers per route, from /metrics."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if not line.startswith("http_requests_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.index("}")]))
        if labels.get("method") == "POST" and labels.get("status", "").startswith("2"):
            route = labels.get("route", "")
            counts[route] = counts.get(route, 0) + int(float(line.rsplit(" ", 1)[1]))
    return counts


async def account(target: Target, setup: AppSetup, served: dict[str, int]) -> None:
    """Rows in the database against the accepted items, per path.

    The app's /metrics counts every 2xx it sent, wrk only those it read before closing its
    connections at the end of each run: the difference ("unread") was answered, so it must
    be stored too. Pixel events carry their path in their id, so each path is counted
    apart: rows = wrk's accepted events + unread answers x events per post.
    """
    import asyncpg

    def path_runs(path: str) -> list[Run]:
        together = target.runs.get("together", []) if path == "webhooks" else []
        return target.warmups.get(path, []) + target.runs.get(path, []) + together

    def wrk_count(path: str, *, events: bool) -> int:
        return sum(r.accepted_events if events else r.ok for r in path_runs(path))

    def in_flight(paths: tuple[str, ...]) -> int:
        """Requests a run's end can leave unanswered: its connections, summed over runs."""
        return sum(r.connections for p in paths for r in path_runs(p))

    hooks_served = sum(n for route, n in served.items() if "webhook" in route)
    pixel_served = sum(n for route, n in served.items() if "pixel" in route)
    wrk_hooks = wrk_count("webhooks", events=False)
    wrk_events = {p: wrk_count(p, events=True) for p in ("pixel1", "pixel20")}
    pixel_unread = pixel_served - sum(wrk_count(p, events=False) for p in ("pixel1", "pixel20"))
    db = await asyncpg.connect(_pg(setup.database_url))
    try:
        columns = {
            r["column_name"]
            for r in await db.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'webhook_deliveries'"
            )
        }
        # Durable intake has a state per delivery; before it, the delivery row only records
        # what was handed to the broker.
        by_state = (
            "SELECT state, count(*) FROM webhook_deliveries GROUP BY 1"
            if "state" in columns
            else "SELECT outcome, count(*) FROM webhook_deliveries GROUP BY 1"
        )
        started = time.monotonic()
        while True:
            hooks = await db.fetchrow(
                "SELECT count(*) AS n, count(DISTINCT (shop_domain, topic, event_id)) AS d "
                "FROM webhook_deliveries"
            )
            states = dict(await db.fetch(by_state))
            events = {
                p: await db.fetchrow(
                    "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM pixel_events "
                    "WHERE event_id LIKE $1",
                    f"%-{p}-%",
                )
                for p in ("pixel1", "pixel20")
            }
            stored = sum(e["n"] for e in events.values())
            # Before durable intake the workers wrote the pixel's events: wait for them.
            # Deliveries still `pending` are stored; the workers apply them after the run.
            settled = (
                hooks["n"] >= hooks_served and stored >= sum(wrk_events.values()) + pixel_unread
            )
            if settled or time.monotonic() - started > DRAIN_TIMEOUT_S:
                break
            await asyncio.sleep(1)
        drained_s = time.monotonic() - started
    finally:
        await db.close()
    extra = {p: events[p]["n"] - wrk_events[p] for p in events}  # events wrk did not read
    # Posts stored beyond what wrk read: at least the 2xx it did not read; more only for
    # requests in flight when a run ended whose client left before the answer (stored,
    # not accepted: a sender retries those, and the event id dedups the retry).
    extra_posts = extra["pixel1"] + -(-extra["pixel20"] // 20)
    pixel_exact = (
        all(e["n"] == e["d"] for e in events.values())
        and min(extra.values()) >= 0
        and pixel_unread <= extra_posts <= pixel_unread + in_flight(("pixel1", "pixel20"))
    )
    target.accounting = {
        "webhooks": {
            "rows": hooks["n"],
            "distinct": hooks["d"],
            "app_2xx": hooks_served,
            "wrk_2xx": wrk_hooks,
            "states": states,
            # Every 2xx stored once; rows beyond the app's 2xx count only for requests in
            # flight when a run ended (see the pixel's note).
            "exact": hooks["n"] == hooks["d"]
            and wrk_hooks <= hooks_served <= hooks["n"] <= hooks_served + in_flight(("webhooks",)),
        },
        "pixel": {
            "rows": {p: e["n"] for p, e in events.items()},
            "distinct": {p: e["d"] for p, e in events.items()},
            "wrk_accepted_events": wrk_events,
            "app_2xx_requests": pixel_served,
            "posts_stored_beyond_wrk": extra_posts,
            "unread_answers": pixel_unread,
            "exact": pixel_exact,
        },
        "drained_s": round(drained_s, 1),
    }


async def _count(database_url: str, sql: str, *args: Any) -> Any:
    import asyncpg

    db = await asyncpg.connect(_pg(database_url))
    try:
        return await db.fetchrow(sql, *args)
    finally:
        await db.close()


async def wait_drained(database_url: str, sql: str, *, timeout_s: float = DRAIN_TIMEOUT_S) -> float:
    """Seconds until `sql` (a count) reads 0, polled every 20 ms; inf past the timeout."""
    import asyncpg

    started = time.monotonic()
    db = await asyncpg.connect(_pg(database_url))
    try:
        while time.monotonic() - started < timeout_s:
            if not await db.fetchval(sql):
                return time.monotonic() - started
            await asyncio.sleep(0.02)
    finally:
        await db.close()
    return float("inf")


PENDING_DELIVERIES = "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"
PENDING_PIXEL = "SELECT count(*) FROM pixel_pending WHERE state = 'pending'"
# Deliveries applied since a moment, and the span their done_at times cover.
APPLIED_SINCE = """
SELECT count(*) AS n, extract(epoch FROM max(done_at) - min(done_at)) AS span_s
FROM webhook_deliveries WHERE state = 'done' AND done_at >= $1
"""


def measure_app(
    target: Target,
    setup: AppSetup,
    wrk: str,
    *,
    server_cpu: str | None,
    load_cpu: str | None,
    tmp: Path,
    paths: tuple[str, ...],
    **opts: Any,
) -> None:
    """`python -m server serve` from the target's tree and its worker pool, measured.

    The pixel paths run with the pool (the aggregation's lag is read after each run);
    webhooks run with the pool stopped (the intake a burst meets), then the pool starts
    and applies the backlog (deliveries applied per second, from their done_at times),
    then intake and pool run together at 64 connections. Then the accounting.
    """
    assert target.tree is not None
    port = free_port()
    log_path = tmp / f"{target.label}.log"
    processes: list[subprocess.Popen[bytes]] = []
    database = setup.database_url

    def start(cpu: str | None, command: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            pinned(cpu, [sys.executable, "-m", "server", *command]),
            cwd=target.tree,
            env=setup.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        return process

    def pixel_lag(run: Run) -> None:
        run.lag_s = asyncio.run(wait_drained(database, PENDING_PIXEL))

    with log_path.open("wb") as log_file:
        try:
            worker = start(load_cpu, ["worker"])
            server = start(server_cpu, ["serve", "--port", str(port)])
            base_url = f"http://127.0.0.1:{port}"
            wait_http(base_url + "/healthz")
            data_dir = tmp / target.label
            data_dir.mkdir()
            data = {"webhooks": data_dir / "webhooks.lua", "pixel": data_dir / "pixel.lua"}
            webhook_data(data["webhooks"], secret=setup.secret, shops=setup.shops)
            pixel_data(data["pixel"], key=setup.ingest_key)
            settle = lambda: asyncio.run(quiet(database))  # noqa: E731
            cpu_before, wall_before = group_cpu_s(worker.pid), time.monotonic()
            pixel_paths = tuple(p for p in paths if p.startswith("pixel"))
            measure(
                target,
                wrk,
                load_cpu,
                base_url=base_url,
                paths=pixel_paths,
                data=data,
                groups={"web": server.pid, "workers": worker.pid},
                settle=settle,
                after_run=pixel_lag,
                **opts,
            )
            target.worker_cpu_share = (group_cpu_s(worker.pid) - cpu_before) / max(
                1e-9, time.monotonic() - wall_before
            )
            if "webhooks" in paths:
                stop(worker)
                measure(
                    target,
                    wrk,
                    load_cpu,
                    base_url=base_url,
                    paths=("webhooks",),
                    data=data,
                    groups={"web": server.pid},
                    settle=settle,
                    **opts,
                )
                target.apply = apply_figures(
                    target,
                    setup,
                    wrk=wrk,
                    load_cpu=load_cpu,
                    start=start,
                    base_url=base_url,
                    data=data,
                    server=server,
                    duration_s=opts["duration_s"],
                )
            served = metrics_2xx(base_url)
            stop(server)
            asyncio.run(account(target, setup, served))
        finally:
            for process in processes:
                stop(process)


def apply_figures(
    target: Target,
    setup: AppSetup,
    *,
    wrk: str,
    load_cpu: str | None,
    start: Callable[[str | None, list[str]], subprocess.Popen[bytes]],
    base_url: str,
    data: dict[str, Path],
    server: subprocess.Popen[bytes],
    duration_s: float,
) -> dict[str, Any]:
    """The pool started on the intake run's backlog: deliveries applied per second and the
    CPU per delivery; then intake and pool together for one run at 64 connections."""
    database = setup.database_url
    backlog = int(asyncio.run(_count(database, PENDING_DELIVERIES))[0])
    since = datetime.now(UTC)
    worker = start(load_cpu, ["worker"])
    cpu_before = cpu_snapshot({"workers": worker.pid})
    drain_s = asyncio.run(wait_drained(database, PENDING_DELIVERIES))
    cpu = cpu_used(cpu_before, cpu_snapshot({"workers": worker.pid}), 0.0)
    applied = asyncio.run(_count(database, APPLIED_SINCE, since))
    rate = applied["n"] / float(applied["span_s"] or 1e-9)
    per_delivery = {
        part: cpu.get(part, 0.0) * 1e6 / max(1, applied["n"])
        for part in ("workers", "pg workers", "machine")
    }
    say(
        f"{target.label:<14} apply: {applied['n']} deliveries at {rate:,.0f}/s, drained {drain_s:.1f} s"
    )
    # Together: the intake at 64 connections while the pool applies.
    before = int(asyncio.run(_count(database, PENDING_DELIVERIES))[0])
    run = run_wrk(
        wrk,
        load_cpu,
        url=base_url + "/webhooks",
        path="webhooks",
        connections=64,
        duration_s=duration_s,
        data_file=data["webhooks"],
        prefix=f"{uuid.uuid4().hex[:6]}-webhooks-together-",
        groups={"web": server.pid, "workers": worker.pid},
    )
    target.runs.setdefault("together", []).append(run)
    after = int(asyncio.run(_count(database, PENDING_DELIVERIES))[0])
    tail_s = asyncio.run(wait_drained(database, PENDING_DELIVERIES))
    say(
        f"{target.label:<14} together: intake {run.rate('webhooks'):,.0f}/s, backlog "
        f"{before} -> {after}, drained {tail_s:.1f} s after"
    )
    return {
        "backlog": backlog,
        "applied": int(applied["n"]),
        "rate": rate,
        "drain_s": drain_s,
        "cpu_us": per_delivery,
        "together": {
            "intake_rate": run.rate("webhooks"),
            "p99_ms": run.p99_ms,
            "pending_before": before,
            "pending_after": after,
            "drained_after_s": tail_s,
        },
    }


# ------------------------------------------------------------------ report


def summary(runs: list[Run], path: str, c: int) -> dict[str, float]:
    mine = [r for r in runs if r.connections == c]
    rates = [r.rate(path) for r in mine]
    req_rates = [r.request_rate() for r in mine]
    p99s = [r.p99_ms for r in mine]
    return {
        "rate": statistics.median(rates),
        "rate_min": min(rates),
        "rate_max": max(rates),
        "req_rate": statistics.median(req_rates),
        "p99": statistics.median(p99s),
        "p99_min": min(p99s),
        "p99_max": max(p99s),
        "non_2xx": sum(r.requests - r.ok for r in mine),
    }


def _ratio(t: Target, base: Target | None, path: str, c: int) -> float | None:
    if base is None or path not in base.runs or path not in t.runs:
        return None
    return summary(t.runs[path], path, c)["rate"] / summary(base.runs[path], path, c)["rate"]


def render(targets: list[Target], *, connections: list[int], meta: dict[str, Any]) -> str:
    bare = next((t for t in targets if t.kind == "bare"), None)
    floor = next((t for t in targets if t.kind == "floor"), None)
    apps = [t for t in targets if t.kind == "app"]
    out = [
        "# Hot-path bench",
        "",
        f"{meta['date']} · {meta['cores']} cores ({meta['cpu']}) · `{meta['command']}` · "
        f"{meta['runs']} runs x {meta['duration_s']:g} s per connection count · wall time "
        f"{meta['wall_s']:.0f} s · load average (1 min) {meta['load']}",
        "",
        f"Pinning: the server (bare, floor or app) on core {meta['server_cpu']}, wrk (1 "
        f"thread) and the app's worker pool on core {meta['load_cpu']}; PostgreSQL and Redis "
        "unpinned. bare: aiohttp + orjson, read and parse the body, answer. floor: the "
        "durable floor (bench/floor.py: HMAC and headers or the envelope's shape, one "
        "group-commit INSERT and COMMIT per flush, answer after the COMMIT). The app runs as "
        "shipped (`python -m server serve`, default config.toml, APP_ENV=production, access "
        "log on); CONFIG_FILE lifts only the pixel's rate limits. Webhooks: signed "
        f"products/create deliveries over {WEBHOOK_SHOPS} installed shops, a distinct event "
        "id per request, the app's worker pool stopped (the intake a burst meets); the pixel "
        "runs with the pool applying. Rates are medians of the runs, [min-max] after them; "
        "pixel rates are accepted events/s.",
        "",
        "| server | path | conns | rate (median [min-max]) | p99 ms (median [min-max]) | "
        "÷ bare | ÷ floor | non-2xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in targets:
        for path in PATHS:
            if path not in t.runs:
                continue
            for c in connections:
                s = summary(t.runs[path], path, c)
                to_bare = _ratio(t, bare, path, c) if t.kind != "bare" else None
                to_floor = _ratio(t, floor, path, c) if t.kind == "app" else None
                unit = "ev/s" if path.startswith("pixel") else "req/s"
                out.append(
                    f"| {t.label} | {PATH_LABELS[path]} | {c} | {s['rate']:,.0f} {unit} "
                    f"[{s['rate_min']:,.0f}-{s['rate_max']:,.0f}] | {s['p99']:.1f} "
                    f"[{s['p99_min']:.1f}-{s['p99_max']:.1f}] | "
                    f"{'' if to_bare is None else f'{to_bare:.2f}'} | "
                    f"{'' if to_floor is None else f'{to_floor:.2f}'} | {int(s['non_2xx'])} |"
                )
    c64 = 64 if 64 in connections else connections[0]
    out += ["", "## Applying what was taken", ""]
    for t in apps:
        out += apply_lines(t, c64)
    out += [
        "",
        f"## Targets (issue 23, one web process; ratios at {_join(connections[:2])} connections)",
        "",
    ]
    for t in apps:
        if "processes" not in t.label:
            out += target_lines(t, floor, connections)
    multi = [t for t in apps if "processes" in t.label]
    if multi:
        out += [
            "",
            "## Every core",
            "",
            "The same tree with one web process per core (`WEB_PROCESSES`), nothing pinned: "
            "the web processes, wrk, the worker pool and the stores share the machine; its "
            "ratios are the whole machine's against one floor process on one core.",
            "",
        ]
        for t in multi:
            out += target_lines(t, floor, connections)
    out += cpu_lines(targets, c64)
    out += ["", "## Exactly-once accounting", ""]
    for t in apps:
        a = t.accounting
        w, p = a["webhooks"], a["pixel"]
        rows, wrk_ev = p["rows"], p["wrk_accepted_events"]
        out.append(
            f"- {t.label}: webhooks: {w['rows']:,} rows, {w['distinct']:,} distinct "
            f"(shop, topic, event id); the app answered {w['app_2xx']:,} with 2xx, wrk read "
            f"{w['wrk_2xx']:,}; states when counted: {w['states']}: "
            f"**{'exact' if w['exact'] else 'MISMATCH'}**. Pixel: {rows['pixel1']:,} + "
            f"{rows['pixel20']:,} rows (1-event, 20-event posts), all distinct: "
            f"{p['distinct'] == rows}; wrk read {wrk_ev['pixel1']:,} + {wrk_ev['pixel20']:,} "
            f"accepted events, the app sent {p['unread_answers']} more 2xx that wrk did not "
            f"read: **{'exact' if p['exact'] else 'MISMATCH'}**. Counted {a['drained_s']} s "
            f"after the load. Worker pool CPU during the pixel runs: "
            f"{t.worker_cpu_share or 0:.2f} core; waited for idle workers before each path: "
            f"{t.settle_s} s."
        )
    out += [
        "",
        "wrk closes its connections when a run ends: a request answered at that moment is "
        "stored and counted by the app's /metrics but not by wrk, hence rows >= wrk's count; "
        "rows == the app's 2xx count unless a request in flight at that moment was stored "
        "but its client left before the answer (not accepted; bounded by the connections "
        "summed over the runs, and a sender's retry is deduplicated by its event id). Paths "
        "run in the order 1-event pixel, 20-event pixel, webhooks, each from idle workers "
        "(the bench waits until no query runs in the app's database for 2 s).",
        "",
        "![rate and p99 per connection count](report.png)",
        "",
    ]
    return "\n".join(out)


def _join(values: list[int]) -> str:
    return " and ".join(str(v) for v in values)


def _lag(t: Target) -> float | None:
    lags = [
        r.lag_s for p in ("pixel1", "pixel20") for r in t.runs.get(p, []) if r.lag_s is not None
    ]
    return max(lags) if lags else None


def apply_lines(t: Target, c: int) -> list[str]:
    """The webhook backlog's apply rate, intake and pool together, the pixel's lag."""
    out = []
    a = t.apply
    if a:
        intake = summary(t.runs["webhooks"], "webhooks", c)["rate"]
        cpu = a["cpu_us"]
        g = a["together"]
        out.append(
            f"- {t.label}: the pool, started after the intake run, applied {a['applied']:,} "
            f"deliveries (a backlog of {a['backlog']:,}) at {a['rate']:,.0f}/s = "
            f"{a['rate'] / intake:.2f} x the intake at {c} connections ({intake:,.0f}/s); "
            f"per delivery: workers {cpu['workers']:,.0f} µs, their PostgreSQL sessions "
            f"{cpu['pg workers']:,.0f} µs, the machine {cpu['machine']:,.0f} µs. Intake and "
            f"pool together (64 connections, one run): {g['intake_rate']:,.0f} deliveries/s "
            f"taken, p99 {g['p99_ms']:.1f} ms, backlog {g['pending_before']:,} before and "
            f"{g['pending_after']:,} after the run, drained {g['drained_after_s']:.1f} s later."
        )
    lag = _lag(t)
    if lag is not None:
        out.append(
            f"- {t.label}: pixel aggregation lag (from a run's end until no event awaits "
            f"aggregation), the largest over the pixel runs: {lag:.2f} s."
        )
    return out


def cpu_lines(targets: list[Target], c: int) -> list[str]:
    """Where the CPU went: each part's CPU time per item, medians of the runs at `c`."""
    out = [
        "",
        f"## Where the CPU goes ({c} connections)",
        "",
        "CPU time each part of the machine spent per item served (a delivery, or an accepted "
        "event), read from /proc over each run: the server's process group (web), the worker "
        "pool's, PostgreSQL's backends serving the web process (pg web) and the workers (pg "
        "workers), the rest of PostgreSQL (pg rest: its background processes, exited backends, "
        "the bench's own sessions), Redis, wrk, and the rest of the machine's busy time "
        "(other: the kernel's softirqs, the bench, anything else). Medians of the runs; busy: "
        "the machine's cores in use.",
        "",
        "| server | path | items/s | busy (cores of "
        f"{os.cpu_count()}) | "
        + " | ".join(f"{part} µs/item" for part in CPU_PARTS)
        + " | total µs/item |",
        "| --- | --- | --- | --- | " + "--- | " * len(CPU_PARTS) + "--- |",
    ]
    for t in targets:
        for path in PATHS:
            runs = [r for r in t.runs.get(path, []) if r.connections == c and r.cpu]
            if not runs:
                continue
            items = [max(1.0, r.rate(path) * r.duration_s) for r in runs]

            def per_item(part: str, runs: list[Run] = runs, items: list[float] = items) -> float:
                return statistics.median(
                    r.cpu.get(part, 0.0) * 1e6 / n for r, n in zip(runs, items, strict=True)
                )

            busy = statistics.median(r.cpu["machine"] / r.duration_s for r in runs)
            rate = statistics.median(r.rate(path) for r in runs)
            out.append(
                f"| {t.label} | {PATH_LABELS[path]} | {rate:,.0f} | {busy:.2f} | "
                + " | ".join(f"{per_item(part):,.0f}" for part in CPU_PARTS)
                + f" | {per_item('machine'):,.0f} |"
            )
    return out


def target_lines(t: Target, floor: Target | None, connections: list[int]) -> list[str]:
    """Issue 23's targets, for the paths this run measured."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    parts = []
    for path in PATHS:
        if path not in t.runs:
            continue
        checked = connections[:2]
        ratios = [_ratio(t, floor, path, c) or 0.0 for c in checked]
        p99s = [summary(t.runs[path], path, c)["p99"] for c in checked]
        parts.append(
            f"{PATH_LABELS[path]} {' / '.join(f'{r:.2f}' for r in ratios)} x floor, p99 "
            f"{' / '.join(f'{p:.1f}' for p in p99s)} ms (>= 0.8, < 50 ms: "
            f"{verdict(min(ratios) >= 0.8 and max(p99s) < 50)})"
        )
    if t.apply:
        c = 64 if 64 in connections else connections[0]
        intake = summary(t.runs["webhooks"], "webhooks", c)["rate"]
        ratio = t.apply["rate"] / intake
        g = t.apply["together"]
        bounded = g["pending_after"] <= max(g["pending_before"], g["intake_rate"])
        parts.append(f"apply {ratio:.2f} x intake (>= 1.0: {verdict(ratio >= 1.0)})")
        parts.append(
            f"together: backlog {g['pending_before']:,} -> {g['pending_after']:,} "
            f"(at most one second's intake: {verdict(bounded)})"
        )
    lag = _lag(t)
    if lag is not None:
        parts.append(f"pixel lag {lag:.2f} s (< 2 s: {verdict(lag < 2)})")
    exact = t.accounting and t.accounting["webhooks"]["exact"] and t.accounting["pixel"]["exact"]
    parts.append(f"exactly once: {verdict(bool(exact))}")
    return [f"- {t.label}: " + "; ".join(parts)]


def plot(targets: list[Target], path_png: Path, *, connections: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(PATHS), figsize=(5 * len(PATHS), 7), sharex=True)
    for col, path in enumerate(PATHS):
        for index, t in enumerate(targets):
            if path not in t.runs:
                continue
            colour = f"C{index}"  # one colour per server in every panel
            rows = [summary(t.runs[path], path, c) for c in connections]
            for row_no, (key, lo, hi) in enumerate(
                (("rate", "rate_min", "rate_max"), ("p99", "p99_min", "p99_max"))
            ):
                ax = axes[row_no][col]
                mid = [r[key] for r in rows]
                err = [
                    [m - r[lo] for m, r in zip(mid, rows, strict=True)],
                    [r[hi] - m for m, r in zip(mid, rows, strict=True)],
                ]
                ax.errorbar(
                    connections, mid, yerr=err, marker="o", capsize=3, label=t.label, color=colour
                )
        axes[0][col].set_title(PATH_LABELS[path])
        axes[0][col].set_ylabel("events/s" if path.startswith("pixel") else "requests/s")
        axes[1][col].set_ylabel("p99 latency (ms)")
        axes[1][col].set_xlabel("connections")
        axes[1][col].set_xscale("log", base=2)
        axes[1][col].set_xticks(connections, [str(c) for c in connections])
        axes[0][col].legend(fontsize=8)
        axes[0][col].set_ylim(bottom=0)
        axes[1][col].set_ylim(bottom=0)
    fig.suptitle("wrk: median and min-max of the runs")
    fig.tight_layout()
    fig.savefig(path_png, dpi=90)


# ------------------------------------------------------------------ main


def measure_bare(
    wrk: str,
    *,
    server_cpu: str | None,
    load_cpu: str | None,
    tmp: Path,
    paths: tuple[str, ...],
    **opts: Any,
) -> Target:
    """The bare handler on the server's core, loaded the same way as the app."""
    bare = Target(label="bare", kind="bare")
    port = free_port()
    argv = [sys.executable, __file__, "--bare", str(port)]
    _measure_server(
        bare,
        argv,
        port,
        wrk,
        server_cpu=server_cpu,
        load_cpu=load_cpu,
        tmp=tmp,
        paths=tuple(p for p in BARE_PATHS if p in paths),
        secret=secrets.token_hex(16),
        key="bare",
        **opts,
    )
    return bare


def measure_floor(
    wrk: str,
    *,
    server_cpu: str | None,
    load_cpu: str | None,
    tmp: Path,
    paths: tuple[str, ...],
    server_url: str,
    **opts: Any,
) -> Target:
    """The durable floor (bench/floor.py) on the server's core, in a fresh database."""
    floor = Target(label="floor", kind="floor")
    name = f"bench_floor_{uuid.uuid4().hex[:6]}"
    asyncio.run(create_database(server_url, name))
    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    secret, key, port = secrets.token_hex(16), secrets.token_urlsafe(24), free_port()
    argv = [sys.executable, str(ROOT / "bench" / "floor.py"), str(port), _pg(database_url)]
    try:
        _measure_server(
            floor,
            [*argv, secret, key, "1"],
            port,
            wrk,
            server_cpu=server_cpu,
            load_cpu=load_cpu,
            tmp=tmp,
            paths=paths,
            secret=secret,
            key=key,
            **opts,
        )
    finally:
        asyncio.run(drop_database(server_url, database_url))
    return floor


def _measure_server(
    target: Target,
    argv: list[str],
    port: int,
    wrk: str,
    *,
    server_cpu: str | None,
    load_cpu: str | None,
    tmp: Path,
    paths: tuple[str, ...],
    secret: str,
    key: str,
    **opts: Any,
) -> None:
    """Start `argv` (a server on `port`) on the server's core and measure it."""
    process = subprocess.Popen(pinned(server_cpu, argv), start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/webhooks")
        data = {
            "webhooks": tmp / f"{target.label}-webhooks.lua",
            "pixel": tmp / f"{target.label}-pixel.lua",
        }
        shops = [f"bench-{n}.myshopify.com" for n in range(WEBHOOK_SHOPS)]
        webhook_data(data["webhooks"], secret=secret, shops=shops)
        pixel_data(data["pixel"], key=key)
        measure(
            target,
            wrk,
            load_cpu,
            base_url=f"http://127.0.0.1:{port}",
            paths=paths,
            data=data,
            groups={"web": process.pid},
            **opts,
        )
    finally:
        stop(process)


def git(*args: str, cwd: Path) -> str:
    """A git command's output, stripped."""
    result = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout.strip()


@contextmanager
def worktree(rev: str, tmp: Path) -> Iterator[tuple[Path, str]]:
    """REV checked out (detached) in a temporary git worktree; (path, short sha)."""
    path = tmp / "rev"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), rev],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    sha = git("rev-parse", "--short", "HEAD", cwd=path)
    try:
        yield path, sha
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", help="also measure this commit (a temporary git worktree)")
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument(
        "--paths", nargs="+", choices=PATHS, default=list(PATHS), help="default: all three"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="then measure the tree with this many web processes, unpinned (default: one "
        "per core; 1 skips it)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)  # the bare server's port
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    if args.bare:
        serve_bare(args.bare)
        return 0
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    wrk = ensure_wrk()
    ensure_matplotlib()
    server_cpu, load_cpu = cpus()
    if server_cpu is None:
        say("fewer than 2 cores (or no taskset): running unpinned")
    opts = {"connections": args.connections, "runs": args.runs, "duration_s": args.duration_s}
    paths = tuple(p for p in RUN_ORDER if p in args.paths)
    head = git("rev-parse", "--short", "HEAD", cwd=ROOT)
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=ROOT)
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp_name:
        tmp = Path(tmp_name)
        with stores(tmp) as (server_url, redis_url), _maybe_worktree(args.rev, tmp) as rev:
            STORE_PIDS.update(store_pids(server_url, redis_url))
            if "postgres" in STORE_PIDS:
                STORE_URLS["postgres"] = server_url
            targets.append(
                measure_bare(
                    wrk, server_cpu=server_cpu, load_cpu=load_cpu, tmp=tmp, paths=paths, **opts
                )
            )
            targets.append(
                measure_floor(
                    wrk,
                    server_cpu=server_cpu,
                    load_cpu=load_cpu,
                    tmp=tmp,
                    paths=paths,
                    server_url=server_url,
                    **opts,
                )
            )
            trees = [(f"app {head}{'+' if dirty else ''}", ROOT, "head")]
            if rev is not None:
                trees.insert(0, (f"app {rev[1]}", rev[0], "rev"))
            if args.processes > 1:
                # The same tree with N web processes on every core (so nothing is pinned:
                # the N processes, wrk, the workers and the stores share the machine).
                trees.append(
                    (f"app {head}{'+' if dirty else ''} x{args.processes} processes", ROOT, "multi")
                )
            for label, tree, short in trees:
                target = Target(label=label, kind="app", tree=tree)
                setup = prepare_app(
                    tree, short, server_url=server_url, redis_url=redis_url, tmp=tmp
                )
                multi = short == "multi"
                if multi:
                    setup.env["WEB_PROCESSES"] = str(args.processes)
                try:
                    measure_app(
                        target,
                        setup,
                        wrk,
                        server_cpu=None if multi else server_cpu,
                        load_cpu=None if multi else load_cpu,
                        tmp=tmp,
                        paths=paths,
                        **opts,
                    )
                finally:
                    asyncio.run(drop_database(server_url, setup.database_url))
                targets.append(target)
    meta = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "command": " ".join(["python", *sys.argv]),
        "runs": args.runs,
        "duration_s": args.duration_s,
        "server_cpu": server_cpu or "any",
        "load_cpu": load_cpu or "any",
        "wall_s": time.monotonic() - started,
        "load": f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    report = render(targets, connections=args.connections, meta=meta)
    (args.out / "report.md").write_text(report)
    plot(targets, args.out / "report.png", connections=args.connections)
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "targets": [
                    {
                        "label": t.label,
                        "kind": t.kind,
                        "accounting": t.accounting,
                        "worker_cpu_share": t.worker_cpu_share,
                        "runs": {p: [r.__dict__ for r in rs] for p, rs in t.runs.items()},
                    }
                    for t in targets
                ],
            },
            indent=1,
        )
    )
    print(report)
    exact = all(
        t.accounting["webhooks"]["exact"] and t.accounting["pixel"]["exact"]
        for t in targets
        if t.kind == "app"
    )
    return 0 if exact else 1


@contextmanager
def _maybe_worktree(rev: str | None, tmp: Path) -> Iterator[tuple[Path, str] | None]:
    if rev is None:
        yield None
        return
    with worktree(rev, tmp) as found:
        yield found


async def drop_database(server_url: str, database_url: str) -> None:
    import asyncpg

    name = urlsplit(database_url).path.lstrip("/")
    admin = await asyncpg.connect(_pg(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    raise SystemExit(main())
