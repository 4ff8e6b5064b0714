"""Pixel pipeline cost against stored volume: the same work at 0, 5 and 20 million events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pixel_scale.py \
        [--sizes 0,5000000,20000000] [--flushes 40] [--rounds 3] [--shared-buffers 6GB]

Makes a fresh database (dropped at the end) on DATABASE_URL's server or, with
`--shared-buffers` (or without DATABASE_URL), on an embedded PostgreSQL started for the run
with that `shared_buffers` (PostgreSQL's documentation starts at a quarter of the RAM; its
default, 128 MB, is sized to start anywhere), every other setting left at its default.
Then for each size: preloads one shop-day with that many events (generated in SQL, with
the first-seen clients and aggregates the pipeline would have made; one client per 20
events), vacuums and checkpoints (as autovacuum and the checkpointer would have, long
before, for a day built over hours: the preload's hint bits and dirty pages are not the
step's work), and measures, at that size and in the same run:
- ingest: `--flushes` group-commit flushes of 1,000 new events each (50 requests of 20)
  through the real ingest statement (server/pixel/store.py), as events/s. Half the new
  events come from clients new to the day, half from clients it already has (drawn
  uniformly from all of them, so at 20 million from a million clients): the step probes
  the first-seen clients all over, and inserts as many at every size;
- aggregation: the pipeline step (server/pixel/pipeline.py `fold`) over those events, ms per
  1,000 events folded;
- for contrast, the recount the pipeline did before (count, distinct clients and revenue
  over the whole day), ms.
`--rounds` repeats each measure, after one unmeasured round (it warms what a server in
service has warm: the statements' plans, the pool, the first use of the buffers); the
median and the spread (min-max) are printed, with the load average. `pixel_pending` is vacuumed before each round, as autovacuum does in service
(the table is set to be vacuumed every 10,000 dead rows; a server run with autovacuum off
would otherwise make each size pay for the dead rows of all the rounds before it). Target:
the step's cost at the largest size within 1.2x of its cost at 0. Timings are wall time on
this machine, with whatever else runs on it. At the end, the disk the largest size takes
per million events: the day's partition with its indexes, and the first-seen clients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS_PER_EVENT = 20  # a day of N events has N / 20 distinct clients
EVENTS_PER_FLUSH = 1000
EVENTS_PER_REQUEST = 20

_PRELOAD = """
INSERT INTO pixel_events (shop_id, event_id, name, "timestamp", client_id, seq, type,
                          context, data, received_at)
SELECT $1, 'pre-' || $2::text || '-' || g, 'page_viewed',
       $3::timestamptz + make_interval(secs => (g % 80000) / 1.0), 'c' || (g % $4), g,
       'standard', '{}'::jsonb, '{}'::jsonb, $3::timestamptz
FROM generate_series(1, $5::bigint) AS g
"""
_PRELOAD_CLIENTS = """
INSERT INTO pixel_day_clients (shop_id, day, name, client_id)
SELECT $1, $2::date, 'page_viewed', 'c' || g FROM generate_series(0, $3::bigint - 1) AS g
ON CONFLICT DO NOTHING
"""
_PRELOAD_AGGREGATE = """
INSERT INTO pixel_daily_aggregates AS a (shop_id, day, name, count, distinct_clients, updated_at)
VALUES ($1, $2, 'page_viewed', $3, $4, now())
ON CONFLICT (shop_id, day, name) DO UPDATE SET count = a.count + EXCLUDED.count,
    distinct_clients = EXCLUDED.distinct_clients
"""
# What the pipeline ran per (shop, day) before: a recount of the whole day.
_OLD_RECOUNT = """
SELECT name, count(*), count(DISTINCT client_id) FROM pixel_events
WHERE shop_id = $1 AND "timestamp" >= $2 AND "timestamp" < $2 + interval '1 day'
GROUP BY name
"""


class _Clients:
    """The new events' clients: half new to the day, half drawn from all the day already has."""

    def __init__(self) -> None:
        self.rng = random.Random(16)
        self.preloaded = 0  # c0 ... c{preloaded - 1}, as _PRELOAD names them
        self.new: list[str] = []

    def next(self) -> str:
        known = self.preloaded + len(self.new)
        if known and self.rng.random() < 0.5:
            k = self.rng.randrange(known)
            return f"c{k}" if k < self.preloaded else self.new[k - self.preloaded]
        # Unique, and at a random place among the preloaded ids' order.
        client = f"c{self.rng.randrange(10**6)}n{len(self.new)}"
        self.new.append(client)
        return client


def _document(shop_id: int, day_start: datetime, tag: str, flush: int, clients: _Clients) -> str:
    received = datetime.now(UTC).isoformat()
    batches = []
    for request in range(EVENTS_PER_FLUSH // EVENTS_PER_REQUEST):
        events = []
        for n in range(EVENTS_PER_REQUEST):
            i = request * EVENTS_PER_REQUEST + n
            events.append(
                {
                    "event_id": f"new-{tag}-{flush}-{i}",
                    "name": "page_viewed",
                    "ts": day_start.replace(hour=12, minute=i % 60).isoformat(),
                    "client_id": clients.next(),
                    "seq": i,
                    "type": "standard",
                    "context": {},
                    "data": {},
                }
            )
        batches.append(
            {"shop_id": shop_id, "received_at": received, "version": "bench", "events": events}
        )
    return orjson.dumps({"batches": batches}).decode()


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# What the day takes on disk: its partition with all its indexes (and TOAST), per event,
# and the first-seen clients with theirs, per client.
_DISK = """
SELECT pg_total_relation_size(format('pixel_events_p%s', to_char($1::date, 'YYYYMMDD')))
           AS events_bytes,
       (SELECT count(*) FROM pixel_events WHERE "timestamp" >= $1::date
           AND "timestamp" < $1::date + 1) AS events,
       pg_total_relation_size('pixel_day_clients') AS clients_bytes,
       (SELECT count(*) FROM pixel_day_clients) AS clients
"""


async def _disk(db: asyncpg.Connection, day_start: datetime) -> str:
    row = await db.fetchrow(_DISK, day_start.date())
    per_million = row["events_bytes"] / max(1, row["events"]) * 1e6 / 2**20
    clients = row["clients_bytes"] / max(1, row["clients"])
    return (
        f"disk: {row['events']:,} events take {row['events_bytes'] / 2**20:,.0f} MiB with their"
        f" indexes ({per_million:,.0f} MiB per million); {row['clients']:,} first-seen clients"
        f" take {row['clients_bytes'] / 2**20:,.0f} MiB ({clients:,.0f} bytes each)"
    )


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"


async def _preload(
    db: asyncpg.Connection, shop_id: int, day_start: datetime, size: int, loaded: int
) -> None:
    started = time.monotonic()
    await db.execute(
        _PRELOAD,
        shop_id,
        str(size),
        day_start,
        max(1, size // CLIENTS_PER_EVENT),
        size - loaded,
    )
    await db.execute(_PRELOAD_CLIENTS, shop_id, day_start.date(), max(1, size // CLIENTS_PER_EVENT))
    await db.execute(
        _PRELOAD_AGGREGATE,
        shop_id,
        day_start.date(),
        size - loaded,
        max(1, size // CLIENTS_PER_EVENT),
    )
    await db.execute("VACUUM ANALYZE")
    await db.execute("CHECKPOINT")
    print(f"preloaded {size:,} events in {time.monotonic() - started:.0f} s", flush=True)


async def run(database_url: str, sizes: list[int], flushes: int, rounds: int) -> list[str]:
    from tortoise import Tortoise

    from server.db import tortoise_config
    from server.pixel.pipeline import fold
    from server.pixel.store import store_batches

    await Tortoise.init(config=tortoise_config(database_url, pool_max=4))
    db = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    lines = []
    try:
        day_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        shop_id = await db.fetchval(
            "INSERT INTO shops (domain, scopes, needs_reauth, installed_at, created_at,"
            " updated_at, name, currency_code) VALUES ('scale.myshopify.com', '', true, now(),"
            " now(), now(), '', '') RETURNING id"
        )
        await db.execute(
            "INSERT INTO web_pixels (shop_id, ingest_key, status, settings, created_at,"
            " updated_at) VALUES ($1, 'scale', 'active', '{}', now(), now())",
            shop_id,
        )
        loaded = 0
        clients = _Clients()
        for size in sizes:
            if size > loaded:
                await _preload(db, shop_id, day_start, size, loaded)
                clients.preloaded = size // CLIENTS_PER_EVENT
                loaded = size
            ingest_rates: list[float] = []
            fold_ms: list[float] = []
            recount_ms: list[float] = []
            for round_no in range(-1, rounds):  # round -1 warms up, unmeasured
                tag = f"{size}-{round_no}-{uuid.uuid4().hex[:6]}"
                documents = [_document(shop_id, day_start, tag, f, clients) for f in range(flushes)]
                await db.execute("VACUUM pixel_pending")
                started = time.perf_counter()
                for document in documents:
                    await store_batches(document, timeout_s=60)
                ingest_rates.append(flushes * EVENTS_PER_FLUSH / (time.perf_counter() - started))
                folded = 0
                started = time.perf_counter()
                while True:
                    rows, events = await fold()
                    if not rows:
                        break
                    folded += events
                fold_ms.append((time.perf_counter() - started) * 1000 / (folded / 1000))
                started = time.perf_counter()
                await db.fetch(_OLD_RECOUNT, shop_id, day_start)
                recount_ms.append((time.perf_counter() - started) * 1000)
                if round_no < 0:
                    for measured in (ingest_rates, fold_ms, recount_ms):
                        measured.clear()
            line = (
                f"| {size:,} | {_spread(ingest_rates)} | {_spread(fold_ms)} | "
                f"{_spread(recount_ms)} | {_load()} |"
            )
            print(line, flush=True)
            lines.append(line)
        print(await _disk(db, day_start), flush=True)
    finally:
        await db.close()
        await Tortoise.close_connections()
    return lines


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0,5000000,20000000")
    parser.add_argument("--flushes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--shared-buffers",
        help="run on an embedded PostgreSQL with this shared_buffers (e.g. 6GB) instead of "
        "DATABASE_URL's server",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    server_url = os.environ.get("DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if args.shared_buffers or not server_url:
            from server.embedded import EmbeddedPostgres

            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pixel-scale-")))
            settings = {"shared_buffers": args.shared_buffers} if args.shared_buffers else {}
            server_url = stack.enter_context(EmbeddedPostgres(base, settings=settings)).url
        return await _bench(server_url, args, sizes)


async def _bench(server_url: str, args: argparse.Namespace, sizes: list[int]) -> int:
    import server.flows  # noqa: F401  (every flow's steps after migrating: pixel partitions)
    from server.db import apply_migrations

    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        await apply_migrations(database_url)
        print(
            f"{os.cpu_count()} cores; {args.flushes} flushes of {EVENTS_PER_FLUSH} events per "
            f"round, {args.rounds} rounds after one to warm up; median (min-max)"
        )
        settings = await admin.fetchrow(
            "SELECT current_setting('server_version') AS version,"
            " current_setting('shared_buffers') AS shared_buffers,"
            " current_setting('autovacuum') AS autovacuum"
        )
        print(
            f"PostgreSQL {settings['version']}, shared_buffers {settings['shared_buffers']}, "
            f"autovacuum {settings['autovacuum']}"
        )
        print(
            "| events stored that day | ingest events/s | aggregation ms per 1,000 events "
            "| old full recount of the day, ms | load average |"
        )
        print("| --- | --- | --- | --- | --- |")
        await run(database_url, sizes, args.flushes, args.rounds)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
