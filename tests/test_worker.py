"""The worker path end to end: a real Redis broker and a real `python -m server worker`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import orjson
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from actors.broker import build_broker, iter_actors
from actors.middleware import WorkerPools
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parent.parent


def test_broker_kind_follows_the_url(make_pure_config):
    redis_broker = build_broker(make_pure_config())
    rabbit = build_broker(make_pure_config(BROKER_URL="amqp://guest:guest@127.0.0.1:5672/"))
    stub = build_broker(make_pure_config(), stub=True)
    try:
        assert isinstance(redis_broker, RedisBroker)
        assert isinstance(rabbit, RabbitmqBroker)
        assert isinstance(stub, StubBroker)
        for broker in (redis_broker, rabbit, stub):
            kinds = [type(m) for m in broker.middleware]
            # AsyncIO must come before WorkerPools: the pools open on its loop.
            assert kinds.index(AsyncIO) < kinds.index(WorkerPools)
    finally:
        for broker in (redis_broker, stub):
            broker.close()


def test_every_actor_names_its_limits():
    for actor in iter_actors():
        assert "max_retries" in actor.options, actor.actor_name
        assert "time_limit" in actor.options, actor.actor_name
        assert actor.queue_name


@pytest.mark.worker
async def test_ping_runs_in_a_real_worker_process(
    redis_broker, redis_client, database_url, aiohttp_client, config, start_worker
):
    from actors.system import ping
    from server.web.app import create_app

    assert ping.broker is redis_broker

    reply_key = f"test:ping:{uuid.uuid4().hex}"
    worker = start_worker()
    ping.send(reply_key)
    # Wait on the reply itself (BLPOP), in short rounds so a dead worker fails fast.
    item = await eventually(
        lambda: redis_client.blpop([reply_key], timeout=1),
        what="the worker's ping reply",
        process=worker,
        interval_s=0,
    )
    reply = orjson.loads(item[1])
    assert reply["pid"] != os.getpid()
    assert reply["database"] == database_url.rsplit("/", 1)[1]
    assert reply["shops"] >= 0
    # Its sessions say whose they are in pg_stat_activity, as the web process's do.
    assert reply["application_name"] == "shopify-app worker"
    assert await worker.stop_async() == 0, worker.output[-3000:]
    assert "worker pools open" in worker.output and "worker pools closed" in worker.output

    # The web process's /metrics shows what the worker reported.
    client = await aiohttp_client(create_app(config, broker=redis_broker))
    text = await (await client.get("/metrics")).text()
    assert 'dramatiq_actor_messages_processed_total{actor="ping",queue="default"}' in text
    from tortoise import Tortoise

    _, rows = await Tortoise.get_connection("default").execute_query(
        "SELECT current_setting('application_name') AS name"
    )
    assert rows[0]["name"] == "shopify-app web"


async def test_a_stub_worker_runs_the_actors_and_reports_a_failing_message(
    client, stub_broker, stub_worker, redis_client
):
    """The in-process Worker of the StubBroker tests: it runs async actors on the test's loop
    with the worker pools open, and a message that raises fails the drain at once."""
    from actors.system import ping
    from actors.webhooks import process_data_webhooks

    reply_key = f"test:ping:{uuid.uuid4().hex}"
    ping.send(reply_key)
    await stub_worker.drain("default")
    assert orjson.loads(await redis_client.lpop(reply_key))["pid"] == os.getpid()

    process_data_webhooks.send(["not-an-id"])
    with pytest.raises(Exception, match="not-an-id"):
        await stub_worker.drain("sync")


def test_a_message_a_stopping_worker_had_taken_goes_back_to_its_queue(stub_broker):
    # What Worker.stop does with messages its consumers took but did not run: requeue them.
    # Without that (Dramatiq's StubBroker drops them) the queue's join would never return.
    from actors.system import ping

    ping.send("test:requeue")
    consumer = stub_broker.consume("default", prefetch=1, timeout=100)
    taken = next(consumer)
    consumer.requeue([taken])
    again = next(consumer)
    assert again is not None and again.message_id == taken.message_id
    consumer.ack(again)
    stub_broker.join("default", timeout=1000)  # every take settled: nothing left to wait for
