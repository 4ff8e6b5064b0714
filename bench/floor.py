"""The durable floor: the least an aiohttp + asyncpg process does for the app's guarantee.

    python bench/floor.py PORT DATABASE_URL SECRET INGEST_KEY SHOP_ID

The guarantee: a 2xx means the item is committed in PostgreSQL, once (dedup key). So, per
request: read the body, check the HMAC and the required headers (webhooks) or the
envelope's shape (pixel), parse the JSON, hand the rows to a group commit (one
`INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` and one COMMIT for every
request waiting), answer after the COMMIT. No middleware, no log line, no rate limit, no
wake-up. Its tables hold what the app's intake stores (the same columns) under the dedup
key alone. bench/run.py measures it beside the bare handler and the app.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import sys
from datetime import datetime

import asyncpg
import orjson
import uvloop
from aiohttp import web

SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_webhooks (
    id bigserial PRIMARY KEY, shop text NOT NULL, topic text NOT NULL, event_id text NOT NULL,
    webhook_id text NOT NULL, api_version text NOT NULL, triggered_at text,
    received_at timestamptz NOT NULL, payload text NOT NULL, UNIQUE (shop, topic, event_id));
CREATE TABLE IF NOT EXISTS floor_pixel_events (
    id bigserial PRIMARY KEY, shop_id bigint NOT NULL, event_id text NOT NULL,
    name text NOT NULL, ts timestamptz NOT NULL, client_id text NOT NULL, seq bigint NOT NULL,
    type text NOT NULL, context text NOT NULL, data text NOT NULL,
    received_at timestamptz NOT NULL, UNIQUE (shop_id, event_id, ts));
"""
WEBHOOK_SQL = """
INSERT INTO floor_webhooks (shop, topic, event_id, webhook_id, api_version, triggered_at,
                            received_at, payload)
SELECT u.s, u.t, u.e, u.w, u.v, u.a, now(), u.p
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[]) AS u(s, t, e, w, v, a, p)
ON CONFLICT DO NOTHING
"""
PIXEL_SQL = """
INSERT INTO floor_pixel_events (shop_id, event_id, name, ts, client_id, seq, type, context,
                                data, received_at)
SELECT $1, u.e, u.n, u.ts, u.c, u.s, u.t, u.x, u.d, now()
FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::bigint[], $7::text[],
            $8::text[], $9::text[]) AS u(e, n, ts, c, s, t, x, d)
ON CONFLICT DO NOTHING
"""
HEADERS = ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Event-Id")


class GroupCommit:
    """Rows of concurrent requests: one INSERT (one implicit COMMIT) per flush."""

    def __init__(self, conns: list[asyncpg.Connection], sql: str, *, fixed: tuple = ()) -> None:
        # A connection per flush in flight, held (a pool would reset it on every release).
        self.conns, self.sql, self.fixed = conns, sql, fixed
        self.rows: list[tuple] = []
        self.waiters: list[asyncio.Future[None]] = []
        self.flushing = 0

    async def submit(self, rows: list[tuple]) -> None:
        future = asyncio.get_running_loop().create_future()
        self.rows.extend(rows)
        self.waiters.append(future)
        if self.flushing < 2:  # natural batching: what arrives during a flush goes next
            self.flushing += 1
            asyncio.get_running_loop().create_task(self.flush())
        await future

    async def flush(self) -> None:
        conn = self.conns.pop()
        try:
            while self.rows:
                rows, waiters, self.rows, self.waiters = self.rows, self.waiters, [], []
                try:
                    columns = [list(c) for c in zip(*rows, strict=True)]
                    await conn.execute(self.sql, *self.fixed, *columns)
                except Exception as e:  # every waiter of the flush learns it failed
                    for w in waiters:
                        w.set_exception(e)
                    continue
                for w in waiters:
                    w.set_result(None)
        finally:
            self.conns.append(conn)
            self.flushing -= 1


def main() -> None:
    port, database_url, secret, ingest_key, shop_id = sys.argv[1:6]
    key = secret.encode()

    async def webhooks(request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Shopify-Hmac-Sha256", "")
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            return web.Response(status=401)
        topic, shop, event_id = (request.headers.get(h, "") for h in HEADERS)
        if not (topic and shop and event_id) or not isinstance(orjson.loads(body), dict):
            return web.Response(status=400)
        headers = request.headers
        row = (
            shop,
            topic,
            event_id,
            headers.get("X-Shopify-Webhook-Id", ""),
            headers.get("X-Shopify-API-Version", ""),
            headers.get("X-Shopify-Triggered-At"),
            body.decode(),
        )
        await request.app["webhooks"].submit([row])
        return web.Response(body=b'{"status":"queued"}', content_type="application/json")

    async def pixel(request: web.Request) -> web.Response:
        document = orjson.loads(await request.read())
        events = document.get("events") if isinstance(document, dict) else None
        if document.get("accountID") != ingest_key or not isinstance(events, list) or not events:
            return web.Response(status=400)
        rows = []
        for e in events:
            rows.append(
                (
                    str(e["id"]),
                    str(e["name"]),
                    datetime.fromisoformat(e["timestamp"]),
                    str(e["clientId"]),
                    int(e["seq"]),
                    str(e["type"]),
                    orjson.dumps(e.get("context", {})).decode(),
                    orjson.dumps(e.get("data", {})).decode(),
                )
            )
        await request.app["pixel"].submit(rows)
        return web.Response(
            status=202,
            body=b'{"accepted":%d,"rejected":[]}' % len(rows),
            content_type="application/json",
        )

    async def stores(app: web.Application) -> object:
        # Named as the app's web sessions are, so the bench counts its PostgreSQL CPU alike.
        settings = {"application_name": "shopify-app web"}
        conns = [await asyncpg.connect(database_url, server_settings=settings) for _ in range(4)]
        await conns[0].execute(SCHEMA)
        app["webhooks"] = GroupCommit(conns[:2], WEBHOOK_SQL)
        app["pixel"] = GroupCommit(conns[2:], PIXEL_SQL, fixed=(int(shop_id),))
        yield
        for conn in conns:
            await conn.close()

    app = web.Application()
    app.cleanup_ctx.append(stores)
    app.router.add_post("/webhooks", webhooks)
    app.router.add_post("/pixel/events", pixel)
    uvloop.run(web._run_app(app, host="127.0.0.1", port=int(port), print=None, access_log=None))


if __name__ == "__main__":
    main()
