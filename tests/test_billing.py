"""Billing against the fake Shopify: subscribe, approve, decline, cancel, change plan,
status webhooks, reconciliation, uninstall, test charges in review, managed pricing, the
402 gate, and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from models import BillingCharge, BillingUsageCharge
from server.config import Config
from tests.billing_helpers import (
    approved_on_shopify,
    billed_shop,
    billing_config_file,
    merchant_decides,
    path_of,
)
from tests.fake_shopify import Fault, WebhookSender
from tests.helpers import bearer


@pytest.fixture
def billing_env(fake: Any, tmp_path: Any) -> dict[str, str]:
    """The app on the fake Shopify with the tests' plans, test charges on."""
    return {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SHOPIFY_APP_URL": "http://127.0.0.1:8080",
        "CONFIG_FILE": billing_config_file(tmp_path),
        "BILLING_TEST": "true",
    }


@pytest.fixture
def config(make_config: Callable[..., Config], billing_env: dict[str, str]) -> Config:
    """What the in-process worker (`stub_worker`) runs with."""
    return make_config(**billing_env)


@pytest.fixture
def make_billing(
    make_config: Callable[..., Config],
    make_client: Callable[..., Any],
    fake: Any,
    billing_env: dict[str, str],
) -> Callable[..., Any]:
    """`await make_billing(**env)`: (client, config) of the app on the fake Shopify with the
    tests' plans; the fake's billing webhooks go to the app's /webhooks."""

    async def make(**env: str) -> tuple[Any, Config]:
        config = make_config(**{**billing_env, **env})
        client = await make_client(config)
        fake.billing_webhook_url = str(client.make_url("/webhooks"))
        return client, config

    return make


async def _billing(client: Any, config: Config, shop: str) -> dict[str, Any]:
    response = await client.get("/api/billing", headers=bearer(config, shop))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def _subscribe(client: Any, config: Config, shop: str, plan: str) -> str:
    response = await client.post(
        "/api/billing/subscribe", headers=bearer(config, shop), json={"plan": plan}
    )
    assert response.status == 200, await response.text()
    url: str = (await response.json())["confirmation_url"]
    return url


async def _return(client: Any, location: str) -> Any:
    return await client.get(path_of(location), allow_redirects=False)


async def _approved(client: Any, config: Config, shop: str, plan: str) -> dict[str, Any]:
    """Subscribe, approve on Shopify's page, come back: the billing state after."""
    location, _ = await merchant_decides(await _subscribe(client, config, shop, plan))
    response = await _return(client, location)
    assert response.status == 302, await response.text()
    return await _billing(client, config, shop)


def _mutations(fake: Any, shop: str, name: str) -> int:
    return sum(1 for c in fake.calls_for(shop) if c.operation == name)


async def test_subscribe_approve_and_return_activates_the_plan(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    body = await _billing(client, config, shop)
    assert body["mode"] == "api" and body["test"] is True and body["active"] is None
    assert [p["handle"] for p in body["plans"]] == ["basic", "metered", "yearly", "setup"]
    metered = body["plans"][1]
    assert metered["usage_capped_amount"] == "5.0" and metered["included_events"] == 100

    url = await _subscribe(client, config, shop, "metered")
    assert url.startswith(f"{fake.base_url}/{shop}/admin/charges/")
    (pending,) = fake.shop(shop).billing.subscriptions.values()
    assert pending["status"] == "PENDING" and pending["test"] is True
    assert pending["trialDays"] == 0  # the plan has no trial
    assert pending["returnUrl"] == f"http://127.0.0.1:8080/billing/return?shop={shop}"
    kinds = [li["plan"]["pricingDetails"]["__typename"] for li in pending["lineItems"]]
    assert kinds == ["AppRecurringPricing", "AppUsagePricing"]
    # Nothing is stored before Shopify says the charge is active.
    assert not await BillingCharge.filter(shop__domain=shop).exists()

    location, query = await merchant_decides(url)
    assert query["charge_id"] == [pending["id"].rsplit("/", 1)[-1]]
    response = await _return(client, location)
    assert response.status == 302
    assert response.headers["Location"] == f"{fake.base_url}/{shop}/admin/apps/test-api-key"

    active = (await _billing(client, config, shop))["active"]
    assert active["plan"] == "metered" and active["status"] == "ACTIVE" and active["test"] is True
    assert active["current_period_end"] is not None
    assert active["usage"]["capped_amount"] == "5.00" and active["usage"]["balance"] == "0.00"
    # Shopify's app_subscriptions/update (ACTIVE) changes nothing more.
    await stub_worker.drain("webhooks")
    row = await BillingCharge.get(shop__domain=shop)
    assert row.status == "ACTIVE" and row.usage_line_item_gid == pending["lineItems"][1]["id"]


async def test_a_trial_shows_its_days_left(make_billing, fake):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    active = (await _approved(client, config, shop, "basic"))["active"]
    assert active["plan"] == "basic" and active["trial_days_left"] == 7
    assert active["trial_ends_at"] is not None and active["usage"] is None


async def test_a_declined_charge_stores_nothing(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    location, _ = await merchant_decides(await _subscribe(client, config, shop, "basic"), "decline")
    response = await _return(client, location)
    assert response.status == 302  # back into the app, which shows the plans again
    await stub_worker.drain("webhooks")
    assert (await _billing(client, config, shop))["active"] is None
    assert not await BillingCharge.filter(shop__domain=shop).exists()


async def test_a_plan_change_replaces_the_current_plan(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    await _approved(client, config, shop, "basic")
    body = await _approved(client, config, shop, "yearly")
    assert body["active"]["plan"] == "yearly"
    await stub_worker.drain("webhooks")
    statuses = {s["name"]: s["status"] for s in fake.shop(shop).billing.subscriptions.values()}
    assert statuses == {"Basic": "CANCELLED", "Yearly": "ACTIVE"}
    rows = {r.plan: r.status for r in await BillingCharge.filter(shop__domain=shop)}
    assert rows == {"basic": "CANCELLED", "yearly": "ACTIVE"}
    # The trial was the first plan's: the second got what was left of it, not a new one.
    yearly = next(
        s for s in fake.shop(shop).billing.subscriptions.values() if s["name"] == "Yearly"
    )
    assert yearly["trialDays"] <= 7


async def test_cancel_ends_the_plan(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    await _approved(client, config, shop, "basic")
    response = await client.post("/api/billing/cancel", headers=bearer(config, shop))
    assert response.status == 200, await response.text()
    assert (await response.json())["active"] is None
    (subscription,) = fake.shop(shop).billing.subscriptions.values()
    assert subscription["status"] == "CANCELLED"
    await stub_worker.drain("webhooks")
    assert (await BillingCharge.get(shop__domain=shop)).status == "CANCELLED"
    again = await client.post("/api/billing/cancel", headers=bearer(config, shop))
    assert again.status == 409
    assert again.content_type == "application/problem+json"


async def test_one_time_purchase(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    location, _ = await merchant_decides(await _subscribe(client, config, shop, "setup"))
    assert (await _return(client, location)).status == 302
    await stub_worker.drain("webhooks")
    body = await _billing(client, config, shop)
    assert body["active"] is None
    (purchase,) = body["one_time_purchases"]
    assert purchase == {
        "plan": "setup",
        "name": "Setup",
        "status": "ACTIVE",
        "test": True,
        "amount": "49.00",
        "currency": "USD",
        "created_at": purchase["created_at"],
    }


async def test_status_webhooks_and_reconciliation_keep_the_state_true(
    make_billing, fake, stub_worker
):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    await _subscribe(client, config, shop, "metered")
    (pending,) = fake.shop(shop).billing.subscriptions.values()
    # The merchant approves and closes the tab: only Shopify's webhook tells us.
    fake.approve(shop, pending["id"])
    await fake.send_billing_webhooks()
    await stub_worker.drain("webhooks")
    row = await BillingCharge.get(shop__domain=shop)
    assert row.status == "ACTIVE" and row.test is None  # not read back yet
    assert (await _billing(client, config, shop))["active"]["plan"] == "metered"

    # The scheduled run re-reads it from Shopify...
    from actors.billing import schedule_billing

    await asyncio.to_thread(schedule_billing.send, 1)
    await stub_worker.drain("billing")
    await row.refresh_from_db()
    assert row.test is True and row.current_period_end is not None and row.usage_line_item_gid

    # ...and heals a webhook that never came: Shopify cancelled, we missed it.
    fake.shop(shop).billing.subscriptions[pending["id"]]["status"] = "CANCELLED"
    fake.billing_webhooks.clear()
    await asyncio.to_thread(schedule_billing.send, 2)
    await stub_worker.drain("billing")
    await row.refresh_from_db()
    assert row.status == "CANCELLED"
    assert (await _billing(client, config, shop))["active"] is None


async def test_uninstall_ends_billing_and_shop_redact_removes_it(make_billing, fake, stub_worker):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    await _approved(client, config, shop, "basic")
    await stub_worker.drain("webhooks")
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    _, answer = await sender.send(
        str(client.make_url("/webhooks")), "app/uninstalled", shop, {"domain": shop}
    )
    assert answer.status == 200
    await stub_worker.drain("webhooks")
    assert (await BillingCharge.get(shop__domain=shop)).status == "CANCELLED"
    _, answer = await sender.send(
        str(client.make_url("/webhooks")), "shop/redact", shop, {"shop_domain": shop}
    )
    assert answer.status == 200
    await stub_worker.drain("privacy")
    assert not await BillingCharge.filter(shop__domain=shop).exists()
    assert await BillingCharge.all().count() == 0


async def test_the_gate_asks_for_a_plan(make_billing, fake):
    client, config = await make_billing(BILLING_REQUIRED="true")
    shop = await billed_shop(fake, config)
    headers = bearer(config, shop)
    response = await client.get("/api/products", headers=headers)
    assert response.status == 402
    problem = await response.json()
    assert response.content_type == "application/problem+json"
    assert problem["type"].endswith("payment-required") and problem["billing_url"] == "/api/billing"
    # The billing routes stay open, so the merchant can choose a plan.
    assert (await client.get("/api/billing", headers=headers)).status == 200
    await _approved(client, config, shop, "basic")
    assert (await client.get("/api/products", headers=headers)).status == 200


async def test_in_review_test_charges_count_only_when_billing_test(make_billing, fake):
    # App Review's charges are test charges: with BILLING_TEST they must count (else the
    # reviewer loops between the app and the approval page)...
    client, config = await make_billing(BILLING_REQUIRED="true", BILLING_TEST="true")
    shop = await billed_shop(fake, config)
    await _approved(client, config, shop, "basic")
    assert (await client.get("/api/orders", headers=bearer(config, shop))).status == 200
    # ...and in production without it, a test charge is not a payment.
    live, live_config = await make_billing(BILLING_REQUIRED="true", BILLING_TEST="false")
    assert (await live.get("/api/orders", headers=bearer(live_config, shop))).status == 402
    assert (await _billing(live, live_config, shop))["active"] is None


async def test_managed_pricing(make_billing, fake):
    client, config = await make_billing(BILLING_MODE="managed", BILLING_APP_HANDLE="my-app")
    shop = await billed_shop(fake, config)
    store = shop.removesuffix(".myshopify.com")
    response = await client.post("/api/billing/subscribe", headers=bearer(config, shop), json={})
    assert response.status == 200, await response.text()
    assert (await response.json())["confirmation_url"] == (
        f"https://admin.shopify.com/store/{store}/charges/my-app/pricing_plans"
    )
    assert not [c for c in fake.calls_for(shop) if c.operation and "Create" in c.operation]
    body = await _billing(client, config, shop)
    assert body["mode"] == "managed" and body["active"] is None and body["plans"] == []
    assert body["pricing_url"].endswith("/charges/my-app/pricing_plans")
    # The merchant picks a plan on Shopify's page: the state comes from currentAppInstallation.
    approved_on_shopify(fake, shop, "Basic")
    body = await _billing(client, config, shop)
    assert body["active"]["plan"] == "basic" and body["active"]["status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"plan": "gold"}', "no plan"),
        (b"{not json", "not valid JSON"),
        (b'{"plan": 3}', "plan must be"),
        (b'{"plan": "basic", "extra": 1}', "expected"),
        (b"[]", "expected"),
    ],
)
async def test_bad_subscribe_bodies_are_400(make_billing, fake, body, detail):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    response = await client.post(
        "/api/billing/subscribe",
        headers={**bearer(config, shop), "Content-Type": "application/json"},
        data=body,
    )
    assert response.status == 400
    assert detail in (await response.json())["detail"]
    assert not fake.calls_for(shop)


async def test_a_return_shopify_does_not_confirm_is_400_and_changes_nothing(make_billing, fake):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    other = await billed_shop(fake, config)
    url = await _subscribe(client, config, other, "basic")
    location, query = await merchant_decides(url)
    other_charge = query["charge_id"][0]
    for path in (
        f"/billing/return?shop={shop}&charge_id=424242",  # Shopify knows no such charge
        f"/billing/return?shop={shop}&charge_id={other_charge}",  # another shop's charge
        f"/billing/return?shop={shop}&charge_id=abc",
        f"/billing/return?shop={shop}",
        "/billing/return?shop=not-a-shop&charge_id=1",
        "/billing/return?shop=nobody.myshopify.com&charge_id=1",
    ):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 400, (path, await response.text())
        assert response.content_type == "application/problem+json"
    assert not await BillingCharge.filter(shop__domain=shop).exists()
    # The other shop's own return still works.
    assert (await _return(client, location)).status == 302


async def test_shopify_user_errors_are_422_naming_the_field(make_billing, fake):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    refusal = {
        "data": {
            "appSubscriptionCreate": {
                "confirmationUrl": None,
                "appSubscription": None,
                "userErrors": [{"field": ["returnUrl"], "message": "Return url is invalid"}],
            }
        }
    }
    fake.inject(shop, Fault(status=200, body=refusal))
    response = await client.post(
        "/api/billing/subscribe", headers=bearer(config, shop), json={"plan": "basic"}
    )
    assert response.status == 422
    problem = await response.json()
    assert "returnUrl" in problem["detail"]
    assert problem["user_errors"] == [{"field": ["returnUrl"], "message": "Return url is invalid"}]


@pytest.mark.slow  # fault injection: Shopify down
async def test_shopify_down_is_503_with_retry_after(make_billing, fake):
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    fake.inject(shop, *[Fault(status=503) for _ in range(10)])
    response = await client.post(
        "/api/billing/subscribe", headers=bearer(config, shop), json={"plan": "basic"}
    )
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert not fake.shop(shop).billing.subscriptions


async def test_usage_beyond_the_included_events_is_charged_once_a_day_up_to_the_cap(
    make_billing, fake, stub_worker, redis_client
):
    from actors.billing import bill_shop
    from models import WebPixel
    from tests.pixel_helpers import clear_rate_limits, envelope, run_pixel_pipeline

    await clear_rate_limits(redis_client)
    client, config = await make_billing()
    shop = await billed_shop(fake, config)
    await _approved(client, config, shop, "metered")
    await stub_worker.drain("webhooks")
    row = await BillingCharge.get(shop__domain=shop)
    pixel = await WebPixel.create(shop_id=row.shop_id, ingest_key=f"key-{shop}", status="active")

    # Day 0: 300 events through the pipeline, 200 beyond the included 100: 2.00.
    for _ in range(3):
        batch = {"accountID": pixel.ingest_key, "events": [envelope() for _ in range(100)]}
        assert (await client.post("/pixel/events", data=orjson.dumps(batch))).status == 202
    await run_pixel_pipeline(stub_worker)
    from datetime import UTC, datetime, timedelta

    day0 = datetime.now(UTC).date()

    async def run(day: Any) -> None:
        await asyncio.to_thread(bill_shop.send, shop, day.isoformat())
        await stub_worker.drain("billing")

    await run(day0)
    (record,) = fake.usage_records(shop)
    assert record["price"]["amount"] == "2.00"
    assert record["idempotencyKey"].startswith(f"usage:{shop}:")
    await run(day0)  # the day has its charge: nothing more
    assert len(fake.usage_records(shop)) == 1

    # Day 1: 260 more (seeded as the pipeline's aggregates), 460 beyond: 4.60 owed, 2.60
    # new; the balance passes 90 % of the cap and Shopify says so.
    from models import PixelDailyAggregate

    day1, day2 = day0 + timedelta(days=1), day0 + timedelta(days=2)
    await PixelDailyAggregate.create(
        shop_id=row.shop_id, day=day1, name="page_viewed", count=260, distinct_clients=1
    )
    await run(day1)
    assert [r["price"]["amount"] for r in fake.usage_records(shop)] == ["2.00", "2.60"]
    await stub_worker.drain("webhooks")
    await row.refresh_from_db()
    assert row.approaching_cap_at is not None

    # Day 2: 100 more, 1.00 new, 5.60 in all: past the cap, held and shown, never sent.
    await PixelDailyAggregate.create(
        shop_id=row.shop_id, day=day2, name="page_viewed", count=100, distinct_clients=1
    )
    await run(day2)
    assert len(fake.usage_records(shop)) == 2
    usage = (await _billing(client, config, shop))["active"]["usage"]
    assert usage["balance"] == "4.60" and usage["events_this_period"] == 660
    assert [(c["amount"], c["state"]) for c in usage["charges"]] == [
        ("2.00", "sent"),
        ("2.60", "sent"),
        ("1.00", "held"),
    ]
    states = await BillingUsageCharge.filter(shop_id=row.shop_id).values_list("state", flat=True)
    assert sorted(states) == ["held", "sent", "sent"]
    assert _mutations(fake, shop, "AppUsageRecordCreate") == 2


@pytest.mark.worker
async def test_a_usage_charge_survives_a_worker_sigkill_between_shopify_and_the_commit(
    config, base_env, billing_env, fake, make_worker_client, start_worker
):
    """Shopify has made the usage record, its answer is on the way, the worker dies before
    committing it: recovery sends the same idempotency key again, Shopify answers with the
    first record, and the day has exactly one."""
    from datetime import UTC, datetime

    from actors.billing import bill_shop
    from models import PixelDailyAggregate, Shop
    from tests.helpers import eventually, run_cli

    await make_worker_client(config)  # the app on a real Redis broker (and its database pool)
    shop = await billed_shop(fake, config)
    # On the metered plan: approved on Shopify's page (the run reads it back from Shopify).
    approved_on_shopify(fake, shop, "Metered", usage_cap="5.0")
    day = datetime.now(UTC).date()
    row = await Shop.get(domain=shop)
    await PixelDailyAggregate.create(
        shop_id=row.id, day=day, name="page_viewed", count=300, distinct_clients=3
    )
    # Shopify's answer to the usage record waits until the worker is dead.
    held = asyncio.Event()
    fake.shop(shop).answer_gates["AppUsageRecordCreate"] = held
    worker = start_worker(billing_env)
    await asyncio.to_thread(bill_shop.send, shop, day.isoformat())
    await eventually(
        lambda: len(fake.usage_records(shop)) == 1,
        what="Shopify made the usage record",
        process=worker,
    )
    outbox = await BillingUsageCharge.get(shop_id=row.id)
    assert outbox.state == "pending"  # committed before the call, not yet marked sent
    await asyncio.to_thread(worker.kill)
    del fake.shop(shop).answer_gates["AppUsageRecordCreate"]
    held.set()
    await outbox.refresh_from_db()
    assert outbox.state == "pending" and outbox.usage_record_gid is None

    # Recovery: the day's run again (as the next scheduled tick, or ops, runs it), twice
    # at once: one sends the pending row, the other skips it or finds it sent.
    env = {**base_env, **billing_env}
    args = ("billing", "usage", "--shop", shop, "--day", day.isoformat())
    results = await asyncio.gather(
        asyncio.to_thread(run_cli, *args, env=env), asyncio.to_thread(run_cli, *args, env=env)
    )
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "recorded=-" in result.stdout
    assert sorted("sent=1" in r.stdout for r in results) == [False, True]
    (record,) = fake.usage_records(shop)
    await outbox.refresh_from_db()
    assert outbox.state == "sent" and outbox.usage_record_gid == record["id"]
    assert (
        record["price"]["amount"] == "2.00" and record["idempotencyKey"] == outbox.idempotency_key
    )
    # And once more: nothing owed, nothing sent, still one record for the day.
    result = await asyncio.to_thread(run_cli, *args, env=env)
    assert result.returncode == 0 and "sent=0" in result.stdout
    assert len(fake.usage_records(shop)) == 1
    assert await BillingUsageCharge.filter(shop_id=row.id).count() == 1


@pytest.mark.slow  # fault injection: Shopify does not answer
async def test_a_usage_charge_shopify_does_not_answer_stays_pending_and_is_sent_later(
    make_billing, fake, base_env, billing_env
):
    from datetime import UTC, datetime

    from models import PixelDailyAggregate, Shop
    from tests.helpers import run_cli

    _, config = await make_billing()
    shop = await billed_shop(fake, config)
    approved_on_shopify(fake, shop, "Metered", usage_cap="5.0")
    day = datetime.now(UTC).date()
    row = await Shop.get(domain=shop)
    await PixelDailyAggregate.create(
        shop_id=row.id, day=day, name="page_viewed", count=150, distinct_clients=1
    )
    # The reconciliation gets its answer; every try of the usage record meets a 503.
    fake.inject(shop, Fault(), *[Fault(status=503) for _ in range(8)])
    env = {**base_env, **billing_env}
    args = ("billing", "usage", "--shop", shop, "--day", day.isoformat())
    result = await asyncio.to_thread(run_cli, *args, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "recorded=pending" in result.stdout and "pending=1" in result.stdout
    assert not fake.usage_records(shop)
    outbox = await BillingUsageCharge.get(shop_id=row.id)
    assert outbox.state == "pending" and outbox.last_error == "ShopifyServerError"
    fake.shop(shop).faults.clear()
    result = await asyncio.to_thread(run_cli, *args, env=env)
    assert result.returncode == 0 and "sent=1" in result.stdout
    (record,) = fake.usage_records(shop)
    assert record["price"]["amount"] == "0.50"
