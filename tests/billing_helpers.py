"""Helpers for the billing tests: a config with the tests' plans, a shop on the fake
Shopify, the merchant's approval as a browser does it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from server.config import DEFAULT_CONFIG_FILE
from tests.helpers import install_shop

# Small numbers so a test can send a day's events: 1 cent an event beyond the first 100,
# capped at 5.00 a period.
TEST_PLANS = """
[[billing.plans]]
handle = "basic"
name = "Basic"
kind = "recurring"
amount = 9.99
currency = "USD"
trial_days = 7

[[billing.plans]]
handle = "metered"
name = "Metered"
kind = "recurring"
amount = 19.0
currency = "USD"
usage_capped_amount = 5.0
usage_terms = "1 cent per storefront event beyond 100 a period"
price_per_1000_events = 10.0
included_events = 100

[[billing.plans]]
handle = "yearly"
name = "Yearly"
kind = "recurring"
amount = 99.0
currency = "USD"
interval = "ANNUAL"

[[billing.plans]]
handle = "setup"
name = "Setup"
kind = "one_time"
amount = 49.0
currency = "USD"
"""


def billing_config_file(tmp_path: Path, plans: str = TEST_PLANS) -> str:
    """config.toml with its [[billing.plans]] replaced by `plans`."""
    text = DEFAULT_CONFIG_FILE.read_text()
    head = text[: text.index("[[billing.plans]]")]
    path = tmp_path / f"config-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(head + plans)
    return str(path)


async def billed_shop(fake: Any, config: Any) -> str:
    """A shop on the fake Shopify, installed with a token the fake issued."""
    domain = f"bill-{uuid.uuid4().hex[:10]}.myshopify.com"
    fake.add_shop(domain, products=0, customers=0, orders=0)
    await install_shop(config, domain, access_token=fake.issue_token(domain))
    return domain


async def merchant_decides(
    confirmation_url: str, decision: str = "approve"
) -> tuple[str, dict[str, list[str]]]:
    """Open the approval page and approve (or decline), as the merchant's browser does;
    the return URL Shopify redirects to, and its query."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(confirmation_url) as page:
            assert page.status == 200, await page.text()
            assert "Approve" in await page.text()
        async with browser.post(
            confirmation_url, data={"decision": decision}, allow_redirects=False
        ) as answer:
            assert answer.status == 302, await answer.text()
            location = answer.headers["Location"]
    return location, parse_qs(urlsplit(location).query)


def path_of(url: str) -> str:
    """The path and query of an absolute URL (to request it from the test client)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def approved_on_shopify(fake: Any, shop: str, name: str, *, usage_cap: str | None = None) -> str:
    """A test subscription the merchant chose and approved on Shopify's side (managed
    pricing's page, or an approval whose return never came); its gid. No webhook is sent."""
    lines: list[dict[str, Any]] = [
        {
            "plan": {
                "appRecurringPricingDetails": {"price": {"amount": "19.0", "currencyCode": "USD"}}
            }
        }
    ]
    if usage_cap is not None:
        cap = {"cappedAmount": {"amount": usage_cap, "currencyCode": "USD"}, "terms": "per event"}
        lines.append({"plan": {"appUsagePricingDetails": cap}})
    created = fake._subscription_create(
        fake.shop(shop),
        fake.base_url,
        name=name,
        lineItems=lines,
        returnUrl="http://127.0.0.1:8080/billing/return",
        test=True,
    )
    gid: str = created["appSubscription"]["id"]
    fake.approve(shop, gid)
    fake.billing_webhooks.clear()
    return gid
