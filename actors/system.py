"""Actors that prove the worker path end to end (broker, pools, database, Redis)."""

from __future__ import annotations

import os

import dramatiq
import orjson
from tortoise import Tortoise

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from models import Shop
from server.actor_names import PING


@dramatiq.actor(actor_name=PING, queue_name="default", max_retries=3, time_limit=30_000)
async def ping(reply_key: str) -> None:
    """Answer on a Redis list with this worker's pid and what it sees of the database."""
    connection = Tortoise.get_connection("default")
    _, rows = await connection.execute_query(
        "SELECT current_database() AS db, current_setting('application_name') AS name"
    )
    shop_count = await Shop.all().count()
    redis = resources().redis
    reply = {
        "pid": os.getpid(),
        "database": rows[0]["db"],
        "application_name": rows[0]["name"],
        "shops": shop_count,
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(reply_key, orjson.dumps(reply))
        pipe.expire(reply_key, 600)
        await pipe.execute()
