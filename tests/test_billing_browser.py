"""The app home's plan in real headless Chromium: with billing required and no plan, only
the plans; choosing one sends the top frame to Shopify's approval page; once approved, the
dashboard and the plan with its trial."""

from __future__ import annotations

from typing import Any

import pytest

from tests.billing_helpers import billing_config_file, merchant_decides, path_of
from tests.browser import CDPError, Chromium
from tests.helpers import eventually, install_shop
from tests.test_admin_browser import Shopify, _home_url, _open

# drives headless Chromium
pytestmark = pytest.mark.slow

DOMAIN = "browser-billing.myshopify.com"


async def test_the_home_shows_the_plans_until_one_is_approved(
    make_config, make_client, fake, tmp_path
):
    config = make_config(
        SHOPIFY_ADMIN_ORIGIN=fake.admin_origin,
        SHOPIFY_APP_URL="http://127.0.0.1:8080",
        SCOPES="read_products,read_orders,read_customers,write_pixels",
        CONFIG_FILE=billing_config_file(tmp_path),
        BILLING_REQUIRED="true",
        BILLING_TEST="true",
    )
    client: Any = await make_client(config)
    fake.add_shop(DOMAIN, products=1, orders=0, customers=0)
    await install_shop(config, DOMAIN, access_token=fake.issue_token(DOMAIN))
    shopify = Shopify(config)
    async with Chromium(tmp_path / "profile") as browser:
        page = await _open(browser, shopify, _home_url(client, DOMAIN))
        await page.wait_in_page("document.body.dataset.ready === 'true'")
        # No plan: the plans, and nothing of the dashboard (not even loaded).
        assert await page.evaluate("document.getElementById('dashboard').hidden") is True
        handles = await page.evaluate(
            "[...document.querySelectorAll('#billing-plans [data-plan]')].map(e => e.dataset.plan)"
        )
        assert handles == ["basic", "metered", "yearly", "setup"]
        assert "Choose a plan" in await page.text("#billing-summary")
        assert not shopify.calls("GET", "/api/sync")
        await page.click("[data-plan=basic] s-button")
        (charge,) = await eventually(
            lambda: list(fake.shop(DOMAIN).billing.subscriptions.values()),
            what="the subscription created",
        )
        # The top frame went to Shopify's approval page (asked again once it has loaded).
        await eventually(
            lambda: page.evaluate("document.title === 'Approve charge'"),
            what="the approval page in the top frame",
            ignoring=(CDPError,),
        )

        confirmation = await page.evaluate("location.href")
        location, _ = await merchant_decides(confirmation)
        assert (await client.get(path_of(location), allow_redirects=False)).status == 302
        page = await _open(browser, shopify, _home_url(client, DOMAIN))
        await page.wait_in_page("document.body.dataset.ready === 'true'")
        assert await page.evaluate("document.getElementById('dashboard').hidden") is False
        summary = await page.text("#billing-summary")
        assert "Plan: Basic (test charge)" in summary and "trial: 7 days left" in summary
        assert shopify.calls("GET", "/api/sync")
    assert charge["status"] == "ACTIVE"
