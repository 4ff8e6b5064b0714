"""Retention of everything we keep, partitions of raw events, and the migration to them."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest
from tortoise import Tortoise

from actors.sweeper import apply_retention
from models import ComplianceRequest, PixelDayClient, PixelEvent, SyncTombstone
from server.db import MIGRATIONS_DIR, apply_migrations
from server.pixel.partitions import ensure_pixel_partitions, existing_days, partition_name
from tests.helpers import bearer, install_shop
from tests.pixel_helpers import envelope, pixel_shop


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@pytest.mark.slow  # creates and drops partitions
async def test_raw_events_go_by_whole_partitions_when_the_clock_moves(client, config):
    _, pixel = await pixel_shop(config)
    response = await client.post(
        "/pixel/events",
        data=orjson.dumps({"accountID": pixel.ingest_key, "events": [envelope()]}),
    )
    assert response.status == 202
    today = datetime.now(UTC).date()
    connection = Tortoise.get_connection("default")
    assert today in await existing_days(connection)
    try:
        # 100 days on: the 90-day retention takes today's partition, whole.
        later = today + timedelta(days=100)
        done = await apply_retention(config.outbox, config.retention, today=later)
        days = await existing_days(connection)
        assert min(days) >= later - timedelta(days=config.retention.pixel_events_days)
        assert later + timedelta(days=7) in days  # made ahead
        assert done["partitions_dropped"] >= 1 and done["partitions_created"] >= 1
        assert await PixelEvent.all().count() == 0
        dropped = await connection.execute_query_dict(
            "SELECT to_regclass($1) IS NULL AS gone", [partition_name(today)]
        )
        assert dropped[0]["gone"]
        print(f"clock +100 days: {done}")
    finally:
        await ensure_pixel_partitions()  # today's partitions again, for the tests after
        for day in await existing_days(connection):
            if day > today + timedelta(days=8):
                await connection.execute_script(f'DROP TABLE "{partition_name(day)}"')


async def test_exports_tombstones_and_first_seen_clients_expire(client, config):
    shop = await install_shop(config, "retention.myshopify.com")
    now = datetime.now(UTC)
    old = await ComplianceRequest.create(
        shop=shop,
        topic="customers/data_request",
        event_id="e1",
        status="completed",
        requested_at=now - timedelta(days=40),
        due_at=now,
        completed_at=now - timedelta(days=40),
        export={"tables": {"x": [1]}},
    )
    fresh = await ComplianceRequest.create(
        shop=shop,
        topic="customers/data_request",
        event_id="e2",
        status="completed",
        requested_at=now,
        due_at=now,
        completed_at=now,
        export={"tables": {"x": [1]}},
    )
    await SyncTombstone.create(
        shop=shop, resource="products", shopify_id=1, deleted_at=now - timedelta(days=10)
    )
    await SyncTombstone.create(shop=shop, resource="products", shopify_id=2, deleted_at=now)
    for days_ago in (40, 1):
        await PixelDayClient.create(
            shop_id=shop.id,
            day=(now - timedelta(days=days_ago)).date(),
            name="page_viewed",
            client_id="c",
        )

    done = await apply_retention(config.outbox, config.retention)
    assert done["exports_expired"] == 1
    assert done["tombstones_deleted"] == 1
    assert done["day_clients_deleted"] == 1
    await old.refresh_from_db()
    assert old.status == "expired" and old.export is None
    response = await client.get(
        f"/api/compliance/requests/{old.id}/export", headers=bearer(config, shop.domain)
    )
    assert response.status == 410
    fresh_answer = await client.get(
        f"/api/compliance/requests/{fresh.id}/export", headers=bearer(config, shop.domain)
    )
    assert fresh_answer.status == 200
    assert await SyncTombstone.filter(shopify_id=2).exists()
    assert [c.day for c in await PixelDayClient.filter(shop_id=shop.id)] == [
        (now - timedelta(days=1)).date()
    ]


@pytest.fixture
async def empty_database(database_url: str):
    server_url, _ = database_url.rsplit("/", 1)
    name = f"test_upgrade_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_pg(server_url) + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.slow  # migrates a database of its own
async def test_the_migration_moves_existing_events_into_partitions(empty_database, tmp_path):
    # A database as the version before partitioning left it, holding events.
    before = tmp_path / "migrations"
    (before / "models").mkdir(parents=True)
    for path in sorted((MIGRATIONS_DIR / "models").glob("*.py")):
        if int(path.name.split("_", 1)[0]) < 4:  # the versions before partitioning
            shutil.copy(path, before / "models" / path.name)
    await apply_migrations(empty_database, location=Path(before))
    db = await asyncpg.connect(_pg(empty_database))
    try:
        shop_id = await db.fetchval(
            "INSERT INTO shops (domain, scopes, installed_at, needs_reauth, created_at,"
            " updated_at, name, currency_code) VALUES ('m.myshopify.com', '', now(), false,"
            " now(), now(), '', '') RETURNING id"
        )
        now = datetime.now(UTC)
        stamps = [now - timedelta(days=60), now - timedelta(days=2), now, now]
        for n, at in enumerate(stamps):
            await db.execute(
                'INSERT INTO pixel_events (shop_id, event_id, name, "timestamp", client_id,'
                " seq, type, context, data, received_at) VALUES ($1, $2, 'page_viewed', $3,"
                " $4, 1, 'standard', '{}', '{}', now())",
                shop_id,
                f"old-{n}",
                at,
                f"c{n % 2}",
            )
        # The old pipeline still owed today's recount.
        await db.execute(
            "INSERT INTO pixel_pipeline_inbox (shop_id, day, version, first_at, last_at, seq,"
            " state, attempts, created_at) VALUES ($1, $2, '', now(), now(), 1, 'pending', 0,"
            " now())",
            shop_id,
            now.date(),
        )
        ids_before = sorted(r["id"] for r in await db.fetch("SELECT id FROM pixel_events"))
    finally:
        await db.close()

    applied = await apply_migrations(empty_database)
    assert [a for a in applied if a.startswith("4_")], applied
    assert [a for a in applied if a.startswith("5_")], applied  # over first-seen rows

    db = await asyncpg.connect(_pg(empty_database))
    try:
        partitioned = await db.fetchval(
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'pixel_events'::regclass"
        )
        ids_after = sorted(r["id"] for r in await db.fetch("SELECT id FROM pixel_events"))
        today = await db.fetchrow(
            "SELECT count, distinct_clients FROM pixel_daily_aggregates WHERE day = $1",
            now.date(),
        )
        clients = await db.fetchval("SELECT count(*) FROM pixel_day_clients")
        next_id = await db.fetchval(
            'INSERT INTO pixel_events (shop_id, event_id, name, "timestamp", client_id, seq,'
            " type, context, data, received_at) VALUES ($1, 'new', 'page_viewed', now(), 'c9',"
            " 1, 'standard', '{}', '{}', now()) RETURNING id",
            shop_id,
        )
        # The first-seen key (migration 5's hash-index exclusion constraint) holds over
        # the rows migration 4 backfilled.
        seen_again = await db.fetchval(
            "INSERT INTO pixel_day_clients (shop_id, day, name, client_id)"
            " SELECT shop_id, day, name, client_id FROM pixel_day_clients"
            " ON CONFLICT ON CONSTRAINT pixel_day_clients_key DO NOTHING RETURNING 1"
        )
        duplicate = await db.fetchval(
            'INSERT INTO pixel_events (shop_id, event_id, name, "timestamp", client_id, seq,'
            " type, context, data, received_at) VALUES ($1, 'old-2', 'page_viewed', $2, 'c0',"
            " 1, 'standard', '{}', '{}', now()) ON CONFLICT DO NOTHING RETURNING id",
            shop_id,
            stamps[2],
        )
    finally:
        await db.close()
    assert partitioned == 1
    assert ids_after == ids_before  # every event moved, ids kept
    assert (today["count"], today["distinct_clients"]) == (2, 2)  # the owed day recounted
    assert clients == 3  # the days events can still arrive on: 3 (day, client) pairs
    assert seen_again is None
    assert next_id > max(ids_before)  # the id sequence carried over
    assert duplicate is None  # dedup holds in the partitioned table
