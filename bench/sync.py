"""Full sync from the fake Shopify at Shopify's Standard restore rate, against its floor.

Default sizes are the issue's: 10,000 products (3 variants each), 50,000 orders (2 line
items and 1-2 transactions each) and 20,000 customers, restore rate 100 points/s, bucket
2000, with Shopify's cost model. The three resources sync concurrently, as three workers
would, sharing the shop's bucket. Prints the wall time, the floor (actual query cost spent
divided by the restore rate) and their ratio. `--scale` shrinks every size (the full run
at 100 points/s takes about as long as its floor: roughly an hour).

    python bench/sync.py [--scale 0.02] [--mode paging|auto]

`paging` (default) forces the paging path, whose speed is bounded by the rate limit;
`auto` lets sizes above `sync.bulk_threshold` use bulk operations (their cost is tiny, so
the floor says little there). Uses DATABASE_URL / REDIS_URL when set, else embedded stores.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHOP = "bench-store.myshopify.com"


async def _run(args: argparse.Namespace, database_url: str, redis_url: str) -> None:  # noqa: PLR0915 (one linear script)
    import aiohttp
    from aiohttp import web
    from cryptography.fernet import Fernet
    from redis.asyncio import Redis

    import server.flows  # noqa: F401  (every flow's steps after migrating: pixel partitions)
    from models import Customer, Order, Product, Transaction
    from server.config import load_config
    from server.db import apply_migrations, close_db, init_db
    from server.services import build_services
    from server.sync import runs
    from server.sync.engine import SyncContext, run_sync
    from tests.fake_shopify import FakeShopify
    from tests.helpers import install_shop

    await apply_migrations(database_url)
    fake = FakeShopify(restore_rate=args.restore_rate, bucket_max=args.restore_rate * 20)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}"
    sizes = {
        "products": round(10_000 * args.scale),
        "orders": round(50_000 * args.scale),
        "customers": round(20_000 * args.scale),
    }
    print(f"seeding the fake: {sizes}", flush=True)
    fake.add_shop(SHOP, **sizes)
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SHOPIFY_API_SECRET": "bench-secret",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_SECRET": Fernet.generate_key().decode(),
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "VAR_DIR": tempfile.mkdtemp(prefix="bench-sync-"),
    }
    config = load_config(env)
    sync_config = config.sync
    if args.mode == "paging":
        sync_config = dataclasses.replace(sync_config, bulk_threshold=10**9)
    sync_config = dataclasses.replace(sync_config, bulk_poll_interval_s=0.5)
    await init_db(config)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    try:
        async with aiohttp.ClientSession() as http:
            services = build_services(config, http, redis)
            ctx = SyncContext(config=sync_config, redis=redis, services=services)
            for model in (Product, Order, Customer):
                await model.all().delete()
            shop = await install_shop(config, SHOP, access_token=fake.issue_token(SHOP))
            _, started = await runs.start_runs(shop.id, kind="full", trigger="bench", overlap_s=0)
            began = time.monotonic()
            outcomes = await asyncio.gather(*(run_sync(ctx, r.id) for r in started))
            wall_s = time.monotonic() - began
            counts = {
                "products": await Product.filter(shop_id=shop.id).count(),
                "orders": await Order.filter(shop_id=shop.id).count(),
                "transactions": await Transaction.filter(shop_id=shop.id).count(),
                "customers": await Customer.filter(shop_id=shop.id).count(),
            }
    finally:
        await redis.aclose()
        await close_db()
        await runner.cleanup()
        await fake.close()
    calls = fake.calls_for(SHOP)
    cost = sum(c.actual or 0 for c in calls)
    throttled = sum(1 for c in calls if c.throttled)
    floor_s = cost / args.restore_rate
    print(f"outcomes: {outcomes}; rows: {counts}")
    print(f"calls: {len(calls)} ({throttled} throttled); actual query cost: {cost} points")
    print(f"wall time: {wall_s:.1f} s")
    print(f"floor (cost / {args.restore_rate:g} points/s): {floor_s:.1f} s")
    ratio = wall_s / floor_s if floor_s else float("inf")
    print(f"ratio wall/floor: {ratio:.3f} (target <= 1.15)")


def main() -> None:
    """Parse flags, start stores when needed, run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size")
    parser.add_argument("--restore-rate", type=float, default=100.0)
    parser.add_argument("--mode", choices=["paging", "auto"], default="paging")
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url = os.environ.get("DATABASE_URL", "")
        redis_url = os.environ.get("REDIS_URL", "")
        if not database_url or not redis_url:
            from server.embedded import EmbeddedPostgres, EmbeddedRedis

            var = Path(tempfile.mkdtemp(prefix="bench-stores-"))
            if not database_url:
                database_url = stack.enter_context(EmbeddedPostgres(var)).url
            if not redis_url:
                redis_url = stack.enter_context(EmbeddedRedis(var, persist=False)).url
        asyncio.run(_run(args, database_url, redis_url))


if __name__ == "__main__":
    main()
