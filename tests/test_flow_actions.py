"""Shopify Flow actions (`POST /flow/actions/{handle}`): verified, committed, then applied.

Bodies are signed here (tests/shopify_signing.py: base64 HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from actors.broker import setup_broker
from actors.sweeper import send_swept, sweep_once
from models.flow import FlowActionRun
from server.flow.actions import FLOW_ACTIONS, FlowActionError, FlowRun
from server.flow.http import FLOW_WAKER
from tests.helpers import DatabaseDown
from tests.shopify_signing import body_hmac

SHOP = "flow-store.myshopify.com"
APPLIED: list[dict[str, Any]] = []


@FLOW_ACTIONS.register("test-record")
async def _record(run: FlowRun) -> None:
    # In the claiming transaction: the count it reads includes nothing it has not committed.
    rows = await run.connection.execute_query_dict(
        "SELECT state FROM flow_action_runs WHERE id = $1", [run.id]
    )
    APPLIED.append(
        {
            "shop": run.shop,
            "action_run_id": run.action_run_id,
            "properties": run.properties,
            "state_while_applied": rows[0]["state"],
        }
    )


@FLOW_ACTIONS.register("test-refuse")
async def _refuse(run: FlowRun) -> None:
    raise FlowActionError("the customer reference is not one of this shop's")


def _body(handle: str = "test-record", **overrides: Any) -> dict[str, Any]:
    return {
        "shop_id": 954889,
        "shopify_domain": SHOP,
        "action_run_id": str(uuid.uuid4()),
        "action_definition_id": "Record a note",
        "handle": handle,
        "properties": {"customer_id": "gid://shopify/Customer/1", "note": "fish & chips ☕"},
        **overrides,
    }


async def _post(client, config, body: Any, *, handle: str = "test-record", secret=None):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    signature = body_hmac(raw, secret or config.shopify.api_secret.reveal())
    return await client.post(
        f"/flow/actions/{handle}",
        data=raw,
        headers={"X-Shopify-Hmac-Sha256": signature, "Content-Type": "application/json"},
    )


async def _applied(client, stub_worker) -> None:
    await client.app[FLOW_WAKER].idle()
    await stub_worker.drain("webhooks")


async def test_a_run_is_committed_before_the_200_then_applied_once(client, config, stub_worker):
    APPLIED.clear()
    body = _body()
    response = await _post(client, config, body)
    assert response.status == 200, await response.text()
    assert await response.json() == {"status": "queued"}
    row = await FlowActionRun.get(action_run_id=body["action_run_id"])
    assert (row.state, row.shop_domain, row.handle) == ("pending", SHOP, "test-record")
    assert orjson.loads(row.payload) == body
    await _applied(client, stub_worker)
    assert [
        {
            "shop": SHOP,
            "action_run_id": body["action_run_id"],
            "properties": body["properties"],
            "state_while_applied": "pending",
        }
    ] == APPLIED
    await row.refresh_from_db()
    assert row.state == "done" and row.done_at is not None

    # Flow resends the same run: 200, nothing stored or applied again.
    again = await _post(client, config, body)
    assert await again.json() == {"status": "duplicate"}
    await _applied(client, stub_worker)
    assert len(APPLIED) == 1
    assert await FlowActionRun.filter(action_run_id=body["action_run_id"]).count() == 1
    await row.refresh_from_db()
    assert row.duplicates == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Shopify-Hmac-Sha256": "AAAA"}, {"X-Shopify-Hmac-Sha256": "wrong-secret"}],
)
async def test_a_bad_hmac_is_401_and_stores_nothing(client, config, headers):
    body = orjson.dumps(_body())
    if headers.get("X-Shopify-Hmac-Sha256") == "wrong-secret":
        headers = {"X-Shopify-Hmac-Sha256": body_hmac(body, "not-the-app-secret")}
    response = await client.post("/flow/actions/test-record", data=body, headers=headers)
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert await FlowActionRun.all().count() == 0


async def test_a_tampered_body_is_401(client, config):
    body = orjson.dumps(_body())
    signature = body_hmac(body, config.shopify.api_secret.reveal())
    tampered = body.replace(SHOP.encode(), b"other-store.myshopify.com")
    response = await client.post(
        "/flow/actions/test-record", data=tampered, headers={"X-Shopify-Hmac-Sha256": signature}
    )
    assert response.status == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        _body(action_run_id=""),
        _body(action_run_id=None),
        _body(action_run_id="x" * 300),
        _body(shopify_domain="evil.example.com"),
        _body(handle="another-action"),
        _body(properties=["not", "an", "object"]),
    ],
    ids=[
        "text",
        "array",
        "no run id",
        "null run id",
        "long run id",
        "bad shop",
        "handle",
        "properties",
    ],
)
async def test_malformed_signed_bodies_are_400(client, config, body):
    response = await _post(client, config, body)
    assert response.status == 400, await response.text()
    assert response.content_type == "application/problem+json"
    assert await FlowActionRun.all().count() == 0


async def test_an_action_the_app_does_not_have_is_404(client, config):
    response = await _post(client, config, _body("no-such-action"), handle="no-such-action")
    assert response.status == 404
    assert await FlowActionRun.all().count() == 0


async def test_a_refused_run_ends_failed_with_its_error(client, config, stub_worker):
    body = _body("test-refuse")
    assert (await _post(client, config, body, handle="test-refuse")).status == 200
    await _applied(client, stub_worker)
    row = await FlowActionRun.get(action_run_id=body["action_run_id"])
    assert row.state == "failed"
    assert row.last_error == "FlowActionError: the customer reference is not one of this shop's"


@pytest.mark.slow  # fault injection: the database refuses connections
async def test_database_down_is_503_and_nothing_is_taken(client, config, clean_database):
    async with DatabaseDown(clean_database):
        response = await _post(client, config, _body())
        assert response.status == 503
        assert response.headers["Retry-After"]
        assert response.content_type == "application/problem+json"
    assert (await _post(client, config, _body())).status == 200


async def test_a_lost_wake_up_is_sent_again_by_the_sweeper(make_client, make_config, config):
    dead = make_config(BROKER_URL="redis://127.0.0.1:1/0")
    broker = setup_broker(dead)  # the wake-up goes to a broker that is not there
    try:
        client = await make_client(dead)
        body = _body()
        assert (await (await _post(client, config, body)).json()) == {"status": "queued"}
        await client.app[FLOW_WAKER].idle()
        row = await FlowActionRun.get(action_run_id=body["action_run_id"])
        stub = setup_broker(config, stub=True)
        assert (await sweep_once(config.outbox)).sends == []  # not overdue yet
        await FlowActionRun.filter(id=row.id).update(
            next_attempt_at=row.next_attempt_at - timedelta(seconds=config.outbox.stale_after_s)
        )
        swept = await sweep_once(config.outbox)
        assert swept.sends == [("apply_flow_actions", ([row.id],))]
        assert send_swept(swept, stub) == 1
        [raw] = stub.queues["webhooks"].queue
        message = orjson.loads(raw)
        assert (message["actor_name"], message["args"]) == ("apply_flow_actions", [[row.id]])
    finally:
        broker.close()


async def test_the_limit_is_per_verified_shop(make_client, make_config):
    from dataclasses import replace

    config = make_config()
    config = replace(
        config, rate_limits=replace(config.rate_limits, flow_shop_per_s=1, flow_shop_burst=2)
    )
    client = await make_client(config)
    statuses = [(await _post(client, config, _body())).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert await FlowActionRun.all().count() == 2


async def test_finished_runs_past_retention_are_purged(client, config, stub_worker):
    bodies = [_body(), _body()]
    for body in bodies:
        assert (await _post(client, config, body)).status == 200
    await _applied(client, stub_worker)
    old = datetime.now(UTC) - timedelta(seconds=config.outbox.dedup_retention_s + 60)
    await FlowActionRun.filter(action_run_id=bodies[0]["action_run_id"]).update(received_at=old)
    pending = _body()
    assert (await _post(client, config, pending)).status == 200  # not applied: still owed
    await FlowActionRun.filter(action_run_id=pending["action_run_id"]).update(received_at=old)
    swept = await sweep_once(config.outbox, retention=config.retention)
    assert swept.retained["flow_runs_deleted"] == 1
    left = set(await FlowActionRun.all().values_list("action_run_id", flat=True))
    assert left == {bodies[1]["action_run_id"], pending["action_run_id"]}
