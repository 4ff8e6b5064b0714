"""A shop's lifecycle (app/uninstalled, shop/redact, a reinstall) is applied in the order the
intake committed it, whichever queue's worker runs first, and when the uninstall failed."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

from models import PrivacyAudit, Shop, WebhookDelivery
from server.webhooks.http import WEBHOOK_WAKER
from tests.fake_shopify import WebhookSender
from tests.helpers import install_shop

SHOP = "acme-store.myshopify.com"

# A real refusal by PostgreSQL of the uninstall's write (not a mock of our code): the
# uninstall delivery fails while the trigger exists.
_REFUSE_UNINSTALL = """
CREATE FUNCTION refuse_uninstall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.uninstalled_at IS NOT NULL AND OLD.uninstalled_at IS NULL THEN
        RAISE EXCEPTION 'refused for the test';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_uninstall BEFORE UPDATE ON shops
    FOR EACH ROW EXECUTE FUNCTION refuse_uninstall();
"""
_ALLOW_UNINSTALL = """
DROP TRIGGER IF EXISTS refuse_uninstall ON shops;
DROP FUNCTION IF EXISTS refuse_uninstall();
"""


@pytest.fixture
async def refusal(client):
    """Turns the refusal on (`await refusal(True)`) and off; always off after the test."""
    connection = Tortoise.get_connection("default")

    async def refuse(on: bool) -> None:
        await connection.execute_script(_REFUSE_UNINSTALL if on else _ALLOW_UNINSTALL)

    yield refuse
    await refuse(False)


@pytest.fixture
async def sender(client, config):
    return WebhookSender(client.session, secret=config.shopify.api_secret.reveal())


async def send(client, sender, topic: str) -> int:
    """Deliver one event of `topic` for SHOP (answered 200); the id of its stored row."""
    delivery, response = await sender.send(
        str(client.make_url("/webhooks")), topic, SHOP, {"shop_domain": SHOP}
    )
    assert response.status == 200
    await client.app[WEBHOOK_WAKER].idle()
    row = await WebhookDelivery.get(shop_domain=SHOP, event_id=delivery.event_id)
    return int(row.id)


async def redaction_note() -> str:
    audit = await PrivacyAudit.get(shop_domain=SHOP, topic="shop/redact")
    assert audit.completed_at is not None
    return audit.note


async def test_a_redaction_run_first_applies_the_uninstall_it_follows(
    client, sender, stub_worker, config
):
    """The issue's race: the privacy worker runs before the uninstall's worker."""
    await install_shop(config, SHOP)
    await send(client, sender, "app/uninstalled")
    await send(client, sender, "shop/redact")

    await stub_worker.drain("privacy", only=True)  # the redaction's queue first

    assert await redaction_note() == ""  # redacted, not skipped as "reinstalled"
    assert not await Shop.filter(domain=SHOP).exists()
    assert not await WebhookDelivery.filter(shop_domain=SHOP).exists()
    # The uninstall's own wake-up finds nothing left to do.
    await stub_worker.drain("webhooks")
    assert not await Shop.filter(domain=SHOP).exists()
    assert await PrivacyAudit.filter(shop_domain=SHOP).count() == 1


async def test_a_redaction_waits_for_an_uninstall_that_failed_and_is_retried(
    client, sender, stub_worker, config, refusal
):
    await install_shop(config, SHOP)
    await refusal(True)
    uninstall_id = await send(client, sender, "app/uninstalled")
    await stub_worker.drain("webhooks")
    uninstall = await WebhookDelivery.get(id=uninstall_id)
    assert (uninstall.state, uninstall.attempts) == ("pending", 1)  # failed, will retry
    assert (await Shop.get(domain=SHOP)).installed

    # shop/redact while the uninstall is still failing: it waits (retried), redacts nothing.
    redact_id = await send(client, sender, "shop/redact")
    await stub_worker.drain("privacy", only=True)
    redact = await WebhookDelivery.get(id=redact_id)
    assert (redact.state, redact.attempts) == ("pending", 1)
    assert "before it" in (redact.last_error or "")
    assert not await PrivacyAudit.filter(shop_domain=SHOP, topic="shop/redact").exists()
    assert (await Shop.get(domain=SHOP)).installed

    # The store takes the uninstall again; the redaction's retry applies both, in order.
    await refusal(False)
    from server.webhooks.processing import process_deliveries

    assert await process_deliveries([redact_id], outbox=config.outbox, redis=None) == {"done": 1}
    assert await redaction_note() == ""
    assert not await Shop.filter(domain=SHOP).exists()


async def test_a_redaction_after_an_uninstall_that_failed_for_good_still_redacts(
    client, sender, stub_worker, make_config, config, refusal
):
    """The uninstall was received before the redaction and no install came after it: the
    shop is not "reinstalled" because its uninstall could not be applied."""
    await install_shop(config, SHOP)
    await refusal(True)
    uninstall_id = await send(client, sender, "app/uninstalled")
    from server.webhooks.processing import process_deliveries

    once = make_config(OUTBOX_MAX_ATTEMPTS="1").outbox
    assert await process_deliveries([uninstall_id], outbox=once, redis=None) == {"failed": 1}
    assert (await Shop.get(domain=SHOP)).installed

    await send(client, sender, "shop/redact")
    await stub_worker.drain("privacy", only=True)
    assert await redaction_note() == ""
    assert not await Shop.filter(domain=SHOP).exists()


@pytest.mark.parametrize("uninstall_applied_first", [True, False])
async def test_a_reinstall_committed_after_the_uninstall_skips_the_redaction(
    client, sender, stub_worker, config, uninstall_applied_first
):
    await install_shop(config, SHOP)
    await send(client, sender, "app/uninstalled")
    if uninstall_applied_first:
        await stub_worker.drain("webhooks")
        assert not (await Shop.get(domain=SHOP)).installed
    await install_shop(config, SHOP)  # the merchant came back
    await send(client, sender, "shop/redact")

    await stub_worker.drain("privacy", only=True)
    await stub_worker.drain("webhooks")

    assert (await redaction_note()).startswith("skipped")
    shop = await Shop.get(domain=SHOP)
    assert shop.installed and shop.access_token_enc
