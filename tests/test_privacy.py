"""The privacy requests, from the models' rules: exports, customer and shop redaction.

Besides our own tables, test-only customer-like tables (tests/privacy_fixture_models.py)
stand in for the sync's and the pixel's, which arrive with their issues.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise import Tortoise

from models import ComplianceRequest, PrivacyAudit, Shop, WebhookDelivery
from server.db import tortoise_config
from server.privacy.requests import customer_data_request, redact_customer, redact_shop
from server.privacy.rules import CustomerIdentity, privacy_models, shop_filter
from server.shops.uninstall import revoke_shop_access, uninstall_shop
from tests.helpers import install_shop
from tests.privacy_fixture_models import FixtureCustomer, FixtureOrder, FixtureOrderEvent

SHOP = "acme-store.myshopify.com"
OTHER = "other-store.myshopify.com"
JOHN = {"id": 191167, "email": "John@Example.com", "phone": "555-625-1199"}


def delivery(event_id: str, *, at: datetime | None = None) -> dict:
    return {"event_id": event_id, "triggered_at": (at or datetime.now(UTC)).isoformat()}


@pytest.fixture
async def db(clean_database):
    config = tortoise_config(clean_database, pool_max=4)
    config["apps"]["models"]["models"].append("tests.privacy_fixture_models")
    await Tortoise.init(config=config, _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)  # only the test-only tables are missing
    yield
    await Tortoise.close_connections()


async def seed(config, domain: str) -> Shop:
    """A shop with John (two orders, one event each), Jane, and a webhook delivery."""
    shop = await install_shop(config, domain)
    await FixtureCustomer.create(
        shop=shop, customer_id=JOHN["id"], email="john@example.com", first_name="John"
    )
    await FixtureCustomer.create(
        shop=shop, customer_id=2, email="jane@example.com", first_name="Jane"
    )
    by_id = await FixtureOrder.create(
        shop=shop, order_id=100, customer_id=JOHN["id"], email=None, total=Decimal("9.50")
    )
    guest = await FixtureOrder.create(
        shop=shop, order_id=101, customer_id=None, email="john@example.com", total=Decimal("1")
    )
    jane = await FixtureOrder.create(
        shop=shop, order_id=200, customer_id=2, email="jane@example.com", total=Decimal("3")
    )
    for order in (by_id, guest, jane):
        await FixtureOrderEvent.create(order=order, name="checkout_completed")
    await WebhookDelivery.create(
        shop_domain=domain,
        topic="orders/create",
        event_id="e-1",
        received_at=datetime.now(UTC),
        outcome="ignored",
    )
    return shop


async def rows_of_customer(domain: str, who: CustomerIdentity) -> dict[str, int]:
    """Every table with a rule: how many rows still identify the customer."""
    shop = await Shop.get_or_none(domain=domain)
    found = {}
    for model, rule in privacy_models():
        in_shop, of_customer = shop_filter(rule, shop, domain), who.q(rule)
        if in_shop is not None and of_customer is not None:
            found[model._meta.db_table] = await model.filter(in_shop, of_customer).count()
    return found


async def rows_of_shop(domain: str, shop: Shop | None) -> dict[str, int]:
    found = {}
    for model, rule in privacy_models():
        in_shop = shop_filter(rule, shop, domain)
        if in_shop is not None:
            found[model._meta.db_table] = await model.filter(in_shop).count()
    return found


async def test_rules_are_walked_children_before_parents(db):
    tables = [m._meta.db_table for m, _ in privacy_models()]
    assert {"shops", "compliance_requests", "webhook_deliveries", "privacy_audit"} <= set(tables)
    assert tables.index("test_fixture_order_events") < tables.index("test_fixture_orders")
    assert tables.index("test_fixture_orders") < tables.index("shops")
    assert tables.index("compliance_requests") < tables.index("shops")


async def test_data_request_exports_the_customer_only(db, config):
    await seed(config, SHOP)
    await seed(config, OTHER)
    payload = {"customer": JOHN, "orders_requested": [101], "data_request": {"id": 9999}}
    at = datetime.now(UTC) - timedelta(hours=1)
    await customer_data_request(SHOP, payload, delivery("ev-1", at=at))
    await customer_data_request(SHOP, payload, delivery("ev-1", at=at))  # a retry: no change

    [request] = await ComplianceRequest.all()
    assert request.status == "completed" and request.data_request_id == 9999
    assert request.due_at - request.requested_at == timedelta(days=30)
    assert abs((request.requested_at - at).total_seconds()) < 1
    tables = request.export["tables"]
    assert [r["first_name"] for r in tables["test_fixture_customers"]] == ["John"]
    assert sorted(r["order_id"] for r in tables["test_fixture_orders"]) == [100, 101]
    assert tables["test_fixture_orders"][0]["total"] in ("9.50", "1.00")
    assert len(tables["test_fixture_order_events"]) == 2
    assert "shops" not in tables and "webhook_deliveries" not in tables
    shop = await Shop.get(domain=SHOP)
    assert all(r["shop_id"] == shop.id for r in tables["test_fixture_customers"])
    audit = await PrivacyAudit.get(shop_domain=SHOP, topic="customers/data_request")
    assert audit.completed_at is not None
    fixture_tables = {k: v for k, v in audit.rows_affected.items() if k.startswith("test_")}
    assert fixture_tables == {
        "test_fixture_customers": 1,
        "test_fixture_orders": 2,
        "test_fixture_order_events": 2,
    }
    # Every other exportable table was looked at and held nothing of John.
    assert not any(v for k, v in audit.rows_affected.items() if not k.startswith("test_"))


async def test_customer_redact_leaves_nothing_of_the_customer_in_any_table(db, config):
    await seed(config, SHOP)
    await seed(config, OTHER)
    await customer_data_request(
        SHOP, {"customer": JOHN, "data_request": {"id": 1}}, delivery("ev-1")
    )
    payload = {"customer": JOHN, "orders_to_redact": [100, 101]}
    who = CustomerIdentity.from_payload(payload, orders_key="orders_to_redact")
    assert sum((await rows_of_customer(SHOP, who)).values()) > 0

    counts = await redact_customer(SHOP, payload, delivery("ev-2"))
    assert counts["test_fixture_customers"] == 1
    assert counts["test_fixture_orders"] == 2
    assert counts["test_fixture_order_events"] == 2
    assert counts["compliance_requests"] == 1
    # What still names John (his order ids stay on the anonymised orders: no longer his).
    left = await rows_of_customer(SHOP, CustomerIdentity(who.id, who.email, who.phone, ()))
    assert left and not any(left.values()), left
    # Anonymised, not deleted: the merchant's order totals stay.
    assert await FixtureOrder.filter(shop__domain=SHOP, order_id__in=[100, 101]).count() == 2
    [request] = await ComplianceRequest.all()
    assert (request.status, request.export, request.customer_email) == ("redacted", None, None)
    # Jane, and John's rows of the other shop, are untouched.
    assert await FixtureCustomer.filter(first_name="Jane").count() == 2
    assert sum((await rows_of_customer(OTHER, who)).values()) == 5
    audit = await PrivacyAudit.get(shop_domain=SHOP, topic="customers/redact")
    assert audit.completed_at is not None and "191167" not in str(audit.rows_affected)
    # Again (Shopify's retry): nothing more is deleted; the state is the same.
    again = await redact_customer(SHOP, payload, delivery("ev-2"))
    assert again["test_fixture_customers"] == again["test_fixture_order_events"] == 0
    assert await rows_of_customer(SHOP, CustomerIdentity(who.id, who.email, who.phone, ())) == left
    assert await PrivacyAudit.filter(topic="customers/redact").count() == 1


async def test_redact_before_the_data_request_exports_nothing(db, config):
    await seed(config, SHOP)
    await redact_customer(SHOP, {"customer": JOHN, "orders_to_redact": [100, 101]}, delivery("a"))
    await customer_data_request(SHOP, {"customer": JOHN, "data_request": {"id": 2}}, delivery("b"))
    [request] = await ComplianceRequest.all()
    assert request.status == "completed"
    assert not any(request.export["tables"].values())


async def test_shop_redact_deletes_every_row_but_its_audit_record(db, config):
    shop = await seed(config, SHOP)
    await seed(config, OTHER)
    await customer_data_request(
        SHOP, {"customer": JOHN, "data_request": {"id": 1}}, delivery("ev-1")
    )
    await redact_customer(SHOP, {"customer": {"id": 2}}, delivery("ev-2"))
    assert await revoke_shop_access(SHOP, uninstalled_at=datetime.now(UTC))
    before = await rows_of_shop(SHOP, shop)
    assert before["shops"] == 1 and before["test_fixture_customers"] == 1

    later = datetime.now(UTC) + timedelta(hours=48)
    await redact_shop(SHOP, {"shop_domain": SHOP}, delivery("ev-3", at=later))
    await redact_shop(SHOP, {"shop_domain": SHOP}, delivery("ev-3", at=later))  # a retry

    after = await rows_of_shop(SHOP, shop)
    assert after.pop("privacy_audit") == 1
    assert not any(after.values()), after
    # What is left of the test tables is the other shop's, whole.
    assert await FixtureCustomer.all().count() == 2
    assert await FixtureOrder.all().count() == 3
    assert await FixtureOrderEvent.all().count() == 3
    [audit] = await PrivacyAudit.filter(shop_domain=SHOP)
    assert audit.topic == "shop/redact" and audit.completed_at is not None
    assert audit.rows_affected["shops"] == 1
    assert await Shop.filter(domain=OTHER).count() == 1
    assert await WebhookDelivery.filter(shop_domain=OTHER).count() == 1


async def test_shop_redact_is_skipped_when_the_shop_reinstalled(db, config):
    await seed(config, SHOP)  # installed now, i.e. after the uninstall the request follows
    await redact_shop(SHOP, {"shop_domain": SHOP}, delivery("ev-1"))
    assert await Shop.filter(domain=SHOP).count() == 1
    audit = await PrivacyAudit.get(shop_domain=SHOP, topic="shop/redact")
    assert audit.note.startswith("skipped")


async def test_app_uninstalled_revokes_and_a_stale_copy_is_ignored(db, config):
    await seed(config, SHOP)
    before = datetime.now(UTC) - timedelta(minutes=5)
    await uninstall_shop(SHOP, delivery("old", at=before))
    shop = await Shop.get(domain=SHOP)
    assert shop.uninstalled_at is None and shop.access_token_enc  # older than the install

    await uninstall_shop(SHOP, delivery("new"))
    await uninstall_shop(SHOP, delivery("new"))  # twice is fine
    shop = await Shop.get(domain=SHOP)
    assert shop.uninstalled_at is not None and not shop.installed
    assert shop.access_token_enc is None and shop.refresh_token_enc is None


async def test_uninstall_never_wipes_a_reinstall_that_committed_first(db, config):
    """The reinstall check and the revocation are one statement: no window between them."""
    asked_at = datetime.now(UTC) - timedelta(minutes=1)
    await seed(config, SHOP)  # (re)installed after the uninstall was requested
    assert not await revoke_shop_access(SHOP, uninstalled_at=asked_at)
    shop = await Shop.get(domain=SHOP)
    assert shop.installed and shop.access_token_enc
