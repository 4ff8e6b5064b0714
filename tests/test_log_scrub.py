"""No customer data in any log line, Dramatiq's own failure logging included."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import asyncpg
import pytest
from dramatiq import Message

from server.logs import JsonFormatter
from tests.helpers import WorkerProcess

SHOP = "scrub-shop.myshopify.com"


def test_dramatiq_messages_format_as_actor_and_id_only():
    email = f"ann-{uuid.uuid4().hex}@example.com"
    message = Message(
        queue_name="q", actor_name="apply_data_webhook", args=({"email": email},), kwargs={},
        options={},
    )
    formatter = JsonFormatter()
    for msg, args in (
        ("Failed to process message %s with unhandled exception.", (message,)),
        ("Failed to process message %s with expected exception %s.", (message, "PayloadError")),
        ("Message %s was skipped.", (message,)),
        ("Received args=%r kwargs=%r.", (({"email": email},), {})),
    ):
        record = logging.LogRecord("dramatiq.actor.Actor", logging.ERROR, __file__, 1, msg, args,
                                   None)
        line = formatter.format(record)
        assert email not in line
    record = logging.LogRecord("dramatiq.worker.WorkerThread", logging.ERROR, __file__, 1,
                               "Failed to process message %s with unhandled exception.",
                               (message,), None)
    assert f"apply_data_webhook[{message.message_id}]" in formatter.format(record)


async def _wait_for(predicate, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.mark.worker
async def test_failing_deliveries_leave_no_customer_data_in_the_worker_logs(
    base_env, redis_broker, redis_client, database_url, broker_namespace
):
    from actors.webhooks import dispatch_webhooks

    # A database without tables: every topic actor fails at its first query and is retried.
    server_url, _ = database_url.rsplit("/", 1)
    empty = f"test_empty_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1) + "/postgres")
    await admin.execute(f'CREATE DATABASE "{empty}"')
    email = f"leak-{uuid.uuid4().hex}@example.com"
    phone = f"+1555{uuid.uuid4().int % 10**7:07d}"
    deliveries = [
        {
            "topic": topic,
            "shop": SHOP,
            "payload": {
                "id": 7,
                "email": email,
                "phone": phone,
                "customer": {"id": 7, "email": email, "phone": phone},
                "updated_at": "2026-11-01T00:00:00Z",
            },
            "delivery": {"event_id": uuid.uuid4().hex, "webhook_id": "w", "triggered_at": None,
                         "received_at": "2026-11-01T00:00:00+00:00"},
        }
        for topic in ("customers/update", "customers/redact")
    ]
    retried = [f"{broker_namespace}:{queue}.DQ.msgs" for queue in ("sync", "privacy")]

    async def both_retried() -> bool:
        counts = [await redis_client.hlen(key) for key in retried]
        return all(counts)

    try:
        env = {**base_env, "DATABASE_URL": f"{server_url}/{empty}"}
        with WorkerProcess(env) as worker:
            dispatch_webhooks.send(deliveries)
            assert await _wait_for(both_retried, timeout_s=60), "no retry was scheduled"
            await worker.stop_async()
    finally:
        # The retries wait in this run's delay queues: no later test's worker may run them.
        redis_broker.flush_all()
        await admin.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')
        await admin.close()

    output = worker.output
    assert "Failed to process message apply_data_webhook[" in output, output[-3000:]
    assert "Retrying message" in output
    assert email not in output
    assert phone not in output
