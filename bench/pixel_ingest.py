"""Pixel ingest load on loopback: a bare aiohttp+orjson handler vs the real POST /pixel/events.

Needs DATABASE_URL (a server URL; a fresh database is made and dropped) and REDIS_URL.
Runs, in one go and on the same machine: the bare handler, then the real endpoint
(`python -m server serve`) with 1-event and 20-event posts, each bounded by count and time;
prints accepted events/s, p50, p99 and the ratios; then checks that the database holds
exactly the accepted events, once each (committed before each 202; a worker runs the
pipeline).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/pixel_ingest.py
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHASE_S = float(os.environ.get("BENCH_PHASE_S", "8"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "200000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_server(port: int) -> None:
    """The baseline: parse the JSON body with orjson, answer 202 with orjson."""
    import uvloop
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        return web.Response(
            status=202,
            body=orjson.dumps({"accepted": len(body["events"]), "rejected": []}),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/pixel/events", handler)
    uvloop.run(web._run_app(app, host="127.0.0.1", port=port, print=None, access_log=None))


def _event_format(timestamp: str) -> str:
    """One event as JSON text with slots for id, client and seq.

    The load generator shares the machine's two cores with the server under test: building
    each event with uuid4 + datetime + orjson would take CPU from the server (and more in
    the 20-event phase than in the baseline's), so events are formatted from a template.
    """
    template = {
        "id": "@ID@",
        "name": "product_viewed",
        "timestamp": timestamp,
        "clientId": "@CLIENT@",
        "seq": 0,
        "type": "standard",
        "context": {
            "document": {"location": {"href": "https://shop.example/products/a?variant=1"}},
            "navigator": {"language": "en", "userAgent": "bench"},
        },
        "data": {"productVariant": {"id": "1", "price": {"amount": 10.0, "currencyCode": "EUR"}}},
    }
    text = orjson.dumps(template).decode().replace("%", "%%")
    return (
        text.replace('"@ID@"', '"%s"').replace('"@CLIENT@"', '"bench-%d"').replace('"seq":0', '"seq":%d')
    )


async def load(url: str, key: str, per_post: int) -> dict:
    """Post until the time or count bound; return events/s, requests/s and latencies."""
    latencies: list[float] = []
    accepted = 0
    statuses: dict[int, int] = {}
    sent = 0
    deadline = time.monotonic() + PHASE_S
    seq = 0
    run = uuid.uuid4().hex[:12]
    event_format = _event_format(datetime.now(UTC).isoformat())
    head = '{"accountID":"' + key + '","version":"bench","events":['  # a url-safe key

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted, sent, seq
        while time.monotonic() < deadline and sent < MAX_REQUESTS:
            sent += 1
            events = []
            for _ in range(per_post):
                seq += 1
                events.append(event_format % (f"{run}-{seq}", seq % 1000, seq))
            body = (head + ",".join(events) + "]}").encode()
            started = time.perf_counter()
            async with session.post(url, data=body) as response:
                payload = await response.read()
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 202:
                accepted += orjson.loads(payload)["accepted"]

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "events_s": accepted / elapsed,
        "requests_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "accepted": accepted,
        "statuses": statuses,
    }


async def _wait_http(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


async def main() -> int:  # noqa: PLR0915  (one linear script)
    from cryptography.fernet import Fernet

    from server.db import apply_migrations

    server_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    processes: list[subprocess.Popen[bytes]] = []
    tmp = tempfile.TemporaryDirectory(prefix="pixel-bench-")
    try:
        await apply_migrations(database_url)
        db = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        key = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        shop_id = await db.fetchval(
            "INSERT INTO shops (domain, scopes, needs_reauth, installed_at, created_at, "
            "updated_at, name, currency_code) VALUES ($1, '', false, $2, $2, $2, '', '') "
            "RETURNING id",
            f"{name}.myshopify.com",
            now,
        )
        await db.execute(
            "INSERT INTO web_pixels (shop_id, ingest_key, status, settings, created_at, "
            "updated_at) VALUES ($1, $2, 'active', '{}', $3, $3)",
            shop_id,
            key,
            now,
        )
        # Limits far above the load: this measures the path, not the limiter's refusals.
        config_text = (ROOT / "config.toml").read_text()
        config_text = config_text.replace("shop_events_per_s = 1000", "shop_events_per_s = 10000000")
        config_text = config_text.replace("shop_burst_events = 5000", "shop_burst_events = 10000000")
        config_text = config_text.replace("ip_requests_per_s = 20 ", "ip_requests_per_s = 10000000 ")
        config_text = config_text.replace("ip_burst_requests = 100", "ip_burst_requests = 10000000")
        config_path = Path(tmp.name) / "config.toml"
        config_path.write_text(config_text)
        env = {
            **os.environ,
            "CONFIG_FILE": str(config_path),
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SHOPIFY_API_KEY": "bench",
            "SHOPIFY_API_SECRET": secrets.token_hex(16),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SESSION_SECRET": Fernet.generate_key().decode(),
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": tmp.name,
        }
        # Start from an empty pixel queue on this Redis.
        from redis import Redis

        with Redis.from_url(redis_url) as r:
            for k in r.scan_iter(match="dramatiq:pixel*"):
                r.delete(k)
            for k in r.scan_iter(match="ratelimit:pixel:*"):
                r.delete(k)

        bare_port = _free_port()
        bare = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, __file__, "--bare", str(bare_port)], start_new_session=True
        )
        processes.append(bare)
        await _wait_http(f"http://127.0.0.1:{bare_port}/")
        baseline = await load(f"http://127.0.0.1:{bare_port}/pixel/events", key, 1)
        _stop(bare)

        port = _free_port()
        server = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        processes.append(server)
        await _wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/pixel/events"
        single = await load(url, key, 1)
        twenty = await load(url, key, 20)
        _stop(server)

        def row(label: str, r: dict) -> str:
            return (
                f"{label:<28} {r['events_s']:>10.0f} ev/s {r['requests_s']:>9.0f} req/s "
                f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  statuses {r['statuses']}"
            )

        print(f"concurrency {CONCURRENCY}, {PHASE_S:.0f} s per phase, {os.cpu_count()} cores")
        print(row("bare aiohttp+orjson (1 ev)", baseline))
        print(row("/pixel/events, 1 event", single))
        print(row("/pixel/events, 20 events", twenty))
        ratio_single = single["events_s"] / baseline["events_s"]
        ratio_twenty = twenty["events_s"] / baseline["requests_s"]
        print(f"single-event ratio: {ratio_single:.2f} of bare (target >= 0.5)")
        print(f"20-event ratio: {ratio_twenty:.2f} x bare request rate, in events/s (target >= 2.5)")

        expected = single["accepted"] + twenty["accepted"]
        worker = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "server", "worker", "-p", "2", "-t", "4", "-Q", "pixel"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            # Its shutdown logs in-flight aggregations being cut off (they are retried later).
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(worker)
        started = time.monotonic()
        count = 0
        while time.monotonic() - started < 120:
            count = await db.fetchval("SELECT count(*) FROM pixel_events")
            if count >= expected:
                break
            await asyncio.sleep(0.5)
        distinct = await db.fetchval("SELECT count(DISTINCT event_id) FROM pixel_events")
        _stop(worker)
        print(
            f"database: {count} rows, {distinct} distinct ids, {expected} accepted "
            f"(drained in {time.monotonic() - started:.1f} s after the load)"
        )
        ok = count == expected == distinct
        print("exactly the accepted events, once each:", "yes" if ok else "NO")
        await db.close()
        return 0 if ok else 1
    finally:
        for process in processes:
            _stop(process)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        tmp.cleanup()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bare":
        bare_server(int(sys.argv[2]))
    else:
        import uvloop

        sys.exit(uvloop.run(main()))
