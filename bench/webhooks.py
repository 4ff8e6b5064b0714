"""Benchmark POST /webhooks against a bare aiohttp handler, in the same run.

    python bench/webhooks.py [--requests 5000] [--concurrency 32 64 128]

"Full speed" is each server's peak: both are loaded at every concurrency in the sweep and
the best rate of each is compared (the bare handler peaks at low concurrency; the app, which
batches deliveries into group commits, needs more in flight to fill its batches). Every
rate, p50 and p99 is printed, so nothing is hidden behind the peak.

Both servers run in their own process on loopback (one event loop each, uvloop as in
production); this process signs and sends the deliveries. The app path is the real one:
HMAC, the whole delivery committed in PostgreSQL (one statement per group-commit flush),
then the wake-up sent to a real Redis broker.
DATABASE_URL / REDIS_URL name the stores; unset, embedded ones start for the run.
Prints each server's rate, the ratio, and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-" + uuid.uuid4().hex
SHOP = "bench-shop.myshopify.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ servers (subprocesses)


def serve_bare(port: int) -> None:
    """The baseline: read the body, answer 200."""
    import uvloop
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"status":"queued"}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/webhooks", handler)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_app(port: int) -> None:
    """The real app, as `python -m server serve` builds it (access log off for both)."""
    import logging

    import uvloop
    from aiohttp import web

    from actors.broker import setup_broker
    from server.app import create_app
    from server.config import load_config

    logging.basicConfig(level=logging.WARNING)
    config = load_config()
    uvloop.install()
    app = create_app(config, broker=setup_broker(config))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ------------------------------------------------------------------ load


async def wait_up(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"server at {url} did not come up")


async def load(url: str, *, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send `requests` signed deliveries with `concurrency` in flight; (rate, latencies s)."""
    import aiohttp
    import orjson

    from tests.fake_shopify.webhooks import webhook_hmac

    body = orjson.dumps({"shop_domain": SHOP, "customer": {"id": 1, "email": "a@b.c"}})
    signature = webhook_hmac(body, SECRET)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))

    async def one_client(session: aiohttp.ClientSession) -> None:
        for _ in counter:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "customers/redact",
                "X-Shopify-Hmac-Sha256": signature,
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-Event-Id": uuid.uuid4().hex,
                "X-Shopify-Webhook-Id": uuid.uuid4().hex,
                "X-Shopify-Triggered-At": "2026-11-24T00:00:00Z",
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)
            statuses[resp.status] = statuses.get(resp.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one_client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses from {url}: {statuses}")
    return requests / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ------------------------------------------------------------------ main


async def prepare_stores(base: Path) -> tuple[dict[str, str], list[object]]:
    from server.db import apply_migrations
    from server.embedded import EmbeddedPostgres, EmbeddedRedis

    started: list[object] = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url:
        pg = EmbeddedPostgres(base)
        database_url = pg.start()
        started.append(pg)
    if not redis_url:
        redis = EmbeddedRedis(base, persist=False)
        redis_url = redis.start()
        started.append(redis)
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = database_url.rsplit("/", 1)[0] + f"/{name}"
    await apply_migrations(db_url)
    from cryptography.fernet import Fernet

    env = {
        "APP_ENV": "production",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SHOPIFY_API_KEY": "bench",
        "SHOPIFY_API_SECRET": SECRET,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_SECRET": Fernet.generate_key().decode(),
        "VAR_DIR": str(base / "var"),
        "LOG_LEVEL": "WARNING",
    }
    return env, started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--serve", choices=["app", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        (serve_app if args.serve == "app" else serve_bare)(args.port)
        return

    base = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    env, stores = asyncio.run(prepare_stores(base))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        results = {}
        for kind in ("bare", "app"):
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve", kind, "--port", str(port)],
                cwd=ROOT,
                env={**os.environ, **env},
            )
            procs.append(proc)
            url = f"http://127.0.0.1:{port}/webhooks"
            asyncio.run(wait_up(f"http://127.0.0.1:{port}/healthz" if kind == "app" else url))
            warmup = min(500, args.requests)
            asyncio.run(load(url, requests=warmup, concurrency=args.concurrency[0]))
            results[kind] = [
                (c, *asyncio.run(load(url, requests=args.requests, concurrency=c)))
                for c in args.concurrency
            ]
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for store in reversed(stores):
            store.stop()  # type: ignore[attr-defined]
    print(f"deliveries per run: {args.requests}, loopback, 2 processes (server, load)")
    peaks = {}
    for kind, label in (("bare", "bare aiohttp handler"), ("app", "POST /webhooks")):
        for concurrency, rate, lat in results[kind]:
            print(
                f"{label:<22} c={concurrency:<4} {rate:8.0f} req/s  "
                f"p50 {pct(lat, 0.5) * 1000:6.2f} ms  p99 {pct(lat, 0.99) * 1000:6.2f} ms"
            )
        peaks[kind] = max(results[kind], key=lambda r: r[1])
    (_, bare_rate, _), (app_c, app_rate, app_lat) = peaks["bare"], peaks["app"]
    print(
        f"peak ratio (app / bare): {app_rate / bare_rate:.2f} (target >= 0.5); "
        f"app p99 at its peak (c={app_c}): {pct(app_lat, 0.99) * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
