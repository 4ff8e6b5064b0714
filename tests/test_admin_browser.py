"""The app home in real headless Chromium, as a merchant uses it inside Shopify's admin.

The page is the one the app serves at GET /; the browser loads it from the real app (real
PostgreSQL, Redis, and the fake Shopify behind it). What cannot be reached from a test is
stood in for at the network layer (tests/browser.py `route`): Shopify's CDN serves local
stand-ins of App Bridge and Polaris (tests/admin_stand_ins/), App Bridge's session tokens
are signed by the test with the app's secret, and Shopify's authorize page is answered by
the test so a top-frame redirect to it can be seen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import orjson
import pytest

from models import (
    ComplianceRequest,
    PixelDailyAggregate,
    PixelDailyRevenue,
    Shop,
    SyncRun,
    WebPixel,
)
from server.config import Config
from server.sync.engine import SyncContext, run_sync
from server.web import keys
from tests.browser import IN_PROCESS_FRAMES, Chromium, Page, Reply, png_colours
from tests.helpers import install_shop, make_session_token

# drives headless Chromium
pytestmark = pytest.mark.slow

STAND_INS = Path(__file__).resolve().parent / "admin_stand_ins"
PATTERNS = [
    "https://cdn.shopify.com/*",
    "*/api/*",
    "*/admin/oauth/authorize*",
    "https://admin.shopify.com/*",
    "https://elsewhere.example/*",
]
DOMAIN = "browser-home.myshopify.com"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYnJvd3Nlci1ob21l"  # admin.shopify.com/store/...
JS = {"Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*"}
# Shopify's admin (and any other site) framing the app: an iframe of the app's URL. The
# admin carries App Bridge's top-frame navigations out (see admin_stand_ins/app-bridge.js).
FRAMING_PAGE = """<!doctype html><html><head><title>admin</title></head><body>
<iframe id="app" src="%(src)s" style="width: 100%%; height: 1500px; border: 0"></iframe>
<script>
addEventListener('message', (event) => {
  if (event.origin === %(origin)s && event.data && event.data.appBridgeStandIn === 'navigate') {
    location.href = new URL(event.data.url, event.origin).href;
  }
});
</script></body></html>"""


@dataclass
class ApiCall:
    method: str
    path: str  # with the query
    token_valid: bool


class Shopify:
    """What the browser test stands in for: the CDN, App Bridge's tokens, the authorize page,
    and faults given once to chosen API calls (by path prefix)."""

    def __init__(self, config: Config, *, bad_tokens: int = 0) -> None:
        self.config = config
        self.bad_tokens = bad_tokens
        self.tokens_issued = 0
        self.api_calls: list[ApiCall] = []
        self.faults: dict[str, list[Reply]] = {}
        self.authorize_urls: list[str] = []
        self.authorized = asyncio.Event()
        self.framed_url = ""  # what the admin (or another site) shows in its iframe

    def _token_valid(self, authorization: str) -> bool:
        token = authorization.removeprefix("Bearer ")
        try:
            jwt.decode(
                token,
                self.config.shopify.api_secret.reveal(),
                algorithms=["HS256"],
                audience=self.config.shopify.api_key,
            )
        except jwt.InvalidTokenError:
            return False
        return True

    def calls(self, method: str, prefix: str) -> list[ApiCall]:
        return [c for c in self.api_calls if c.method == method and c.path.startswith(prefix)]

    def _cdn(self, path: str, query: str) -> Reply:
        if path == "/shopifycloud/app-bridge.js":
            return Reply(body=(STAND_INS / "app-bridge.js").read_bytes(), headers=JS)
        if path == "/shopifycloud/polaris-1.js":
            return Reply(body=(STAND_INS / "polaris.js").read_bytes(), headers=JS)
        if path == "/__test/id-token":
            shop = parse_qs(query)["shop"][0]
            self.tokens_issued += 1
            wrong = self.tokens_issued <= self.bad_tokens
            token = make_session_token(
                self.config, shop, secret="not-the-app-secret-" * 3 if wrong else None
            )
            return Reply(body=token.encode(), headers={**JS, "Content-Type": "text/plain"})
        return Reply(status=404)

    async def handle(self, request: dict[str, Any]) -> Reply | None:
        url = urlsplit(request["url"])
        if url.hostname == "cdn.shopify.com":
            return self._cdn(url.path, url.query)
        if url.hostname in {"admin.shopify.com", "elsewhere.example"}:
            if url.path == "/favicon.ico":
                return Reply(status=404)
            framed = urlsplit(self.framed_url)
            origin = orjson.dumps(f"{framed.scheme}://{framed.netloc}").decode()
            page = FRAMING_PAGE % {"src": self.framed_url, "origin": origin}
            return Reply(body=page.encode(), headers={"Content-Type": "text/html"})
        if url.path.endswith("/admin/oauth/authorize"):
            self.authorize_urls.append(request["url"])
            self.authorized.set()
            return Reply(
                body=b"<p>Shopify's authorize page</p>", headers={"Content-Type": "text/html"}
            )
        path = url.path + (f"?{url.query}" if url.query else "")
        headers = {k.lower(): v for k, v in request["headers"].items()}
        self.api_calls.append(
            ApiCall(request["method"], path, self._token_valid(headers.get("authorization", "")))
        )
        for prefix, replies in self.faults.items():
            if url.path.startswith(prefix) and replies:
                return replies.pop(0)
        return None


def _problem(status: int, detail: str, **headers: str) -> Reply:
    body = orjson.dumps({"type": "about:blank", "title": "x", "status": status, "detail": detail})
    return Reply(status, body, {"Content-Type": "application/problem+json", **headers})


async def _open(browser: Chromium, shopify: Shopify, url: str) -> Page:
    page = await browser.new_page()
    await page.route(PATTERNS, shopify.handle)
    await page.goto(url)
    return page


def _home_url(client: Any, shop: str) -> str:
    return f"{client.make_url('/')}?{urlencode({'shop': shop, 'host': HOST, 'embedded': '1'})}"


async def _seed(shop: Shop) -> tuple[date, ComplianceRequest]:
    """A shop with pixel history, analytics aggregates and two privacy requests."""
    now = datetime.now(UTC)
    await WebPixel.create(
        shop_id=shop.id, ingest_key="browser-key", version="1.2.0", last_event_at=now
    )
    today = now.date()
    yesterday = today - timedelta(days=1)
    counts = {
        yesterday: {
            "product_viewed": 40,
            "product_added_to_cart": 10,
            "checkout_started": 5,
            "checkout_completed": 2,
            "page_viewed": 90,
        },
        today: {
            "product_viewed": 60,
            "product_added_to_cart": 20,
            "checkout_started": 10,
            "checkout_completed": 5,
        },
    }
    await PixelDailyAggregate.bulk_create(
        [
            PixelDailyAggregate(shop_id=shop.id, day=day, name=name, count=n, distinct_clients=n)
            for day, names in counts.items()
            for name, n in names.items()
        ]
    )
    await PixelDailyRevenue.create(
        shop_id=shop.id, day=today, currency="EUR", orders=5, revenue=Decimal("123.40")
    )
    completed = await ComplianceRequest.create(
        shop_id=shop.id,
        topic="customers/data_request",
        event_id="e1",
        customer_id=7,
        customer_email="ada@example.com",
        status="completed",
        requested_at=now,
        due_at=now,
        completed_at=now,
        export={"customer": {"email": "ada@example.com"}, "orders": [1001]},
    )
    await ComplianceRequest.create(
        shop_id=shop.id,
        topic="customers/data_request",
        event_id="e2",
        customer_id=8,
        customer_email="bob@example.com",
        status="pending",
        requested_at=now,
        due_at=now,
    )
    return yesterday, completed


async def test_merchant_uses_the_home_page_of_an_installed_shop(
    shop_client, shop_config, fake, tmp_path
):
    fake.add_shop(DOMAIN, products=6, orders=4, customers=3)
    shop = await install_shop(shop_config, DOMAIN, access_token=fake.issue_token(DOMAIN))
    yesterday, export_request = await _seed(shop)
    # The first token App Bridge hands out is refused: the page must get another and retry.
    shopify = Shopify(shop_config, bad_tokens=1)
    async with Chromium(tmp_path / "profile") as browser:
        downloads_dir = tmp_path / "downloads"
        downloads = await browser.allow_downloads(downloads_dir)
        page = await _open(browser, shopify, _home_url(shop_client, DOMAIN))
        await page.wait_in_page("document.body.dataset.ready === 'true'")
        assert await page.evaluate("window.__polarisStandIn") is True
        api_key = await page.evaluate("window.__appBridgeStandIn.apiKey")
        assert api_key == shop_config.shopify.api_key

        # Every call carried a session token; the one refused was retried with a fresh one.
        first = shopify.api_calls[0]
        assert not first.token_valid
        assert next(c for c in shopify.api_calls[1:] if c.path == first.path).token_valid
        assert all(c.token_valid for c in shopify.api_calls[1:])
        assert await page.evaluate("document.querySelectorAll('.message').length") == 0

        # Sync: nothing stored yet; "Sync now" starts runs; once they ran, the page shows them.
        assert await page.text("[data-resource=products] [data-field=stored]") == "0"
        assert await page.text("[data-resource=orders] [data-field=status]") == "never run"
        await page.click("#sync-now")
        await page.wait_in_page(
            "document.querySelector('[data-resource=products] [data-field=status]')"
            ".textContent.trim() === 'pending'"
        )
        assert len(shopify.calls("POST", "/api/sync")) == 1
        assert "Sync started" in await page.evaluate("window.__appBridgeStandIn.toasts")
        app = shop_client.server.app
        ctx = SyncContext(
            config=shop_config.sync, redis=app[keys.REDIS], services=app[keys.SERVICES]
        )
        run_ids = await SyncRun.filter(shop_id=shop.id).values_list("id", flat=True)
        assert len(run_ids) == 3
        assert {await run_sync(ctx, run_id) for run_id in run_ids} == {"succeeded"}
        await page.click("#sync-refresh")
        await page.wait_in_page(
            "document.querySelector('[data-resource=products] [data-field=stored]')"
            ".textContent === '6'"
        )
        assert await page.text("[data-resource=orders] [data-field=stored]") == "4"
        assert await page.text("[data-resource=customers] [data-field=stored]") == "3"
        assert await page.text("[data-resource=customers] [data-field=status]") == "succeeded"
        assert await page.text("[data-resource=products] [data-field=last-success]") != "never"

        # Web Pixel: status, version, last event; Activate and Deactivate go through Shopify.
        assert await page.text("#pixel-status") == "Inactive"
        assert await page.text("#pixel-version") == "1.2.0"
        assert await page.text("#pixel-last-event") != "never"
        await page.click("#pixel-activate")
        await page.wait_in_page(
            "document.querySelector('#pixel-status').dataset.status === 'active'"
        )
        remote = fake.shop(DOMAIN).pixel
        assert remote is not None and orjson.loads(remote["settings"]) == {
            "accountID": "browser-key",
            "ingestUrl": f"{shop_config.app.url}/pixel/events",
        }
        await page.click("#pixel-deactivate")
        await page.wait_in_page(
            "document.querySelector('#pixel-status').dataset.status === 'inactive'"
        )
        assert fake.shop(DOMAIN).pixel is None
        assert len(shopify.calls("POST", "/api/extension/activate")) == 1
        assert len(shopify.calls("POST", "/api/extension/deactivate")) == 1

        # Analytics: the last 30 days by default, then a chosen range.
        funnel_js = (
            "Object.fromEntries([...document.querySelectorAll('#funnel-chart rect')]"
            ".map((r) => [r.dataset.step, Number(r.dataset.count)]))"
        )
        assert await page.evaluate(funnel_js) == {
            "product_viewed": 100,
            "product_added_to_cart": 30,
            "checkout_started": 15,
            "checkout_completed": 7,
        }
        cart = await page.text("[data-step-value=product_added_to_cart]")
        assert cart == "30 · 30.0 % of previous"
        assert await page.evaluate("document.querySelector('#daily-chart').dataset.total") == "242"
        bars = await page.evaluate("document.querySelectorAll('#daily-chart g[data-day]').length")
        assert bars == 30
        assert "€123.40" in await page.text("#revenue")
        day = yesterday.isoformat()
        await page.evaluate(
            f"document.querySelector('#analytics-from').value = '{day}';"
            f"document.querySelector('#analytics-to').value = '{day}';"
        )
        await page.click("#analytics-apply")
        await page.wait_in_page(f"({funnel_js}).product_viewed === 40")
        assert shopify.calls("GET", "/api/analytics/summary")[-1].path == (
            f"/api/analytics/summary?from={day}&to={day}"
        )
        assert await page.evaluate("document.querySelector('#daily-chart').dataset.total") == "147"
        assert await page.text("#revenue") == "No completed checkouts in this range."

        # Privacy requests: both listed with their state; the completed one's export downloads.
        rows = await page.evaluate(
            "[...document.querySelectorAll('#privacy-rows s-table-row')]"
            ".map((r) => r.querySelector('[data-field=status]').textContent)"
        )
        assert rows == ["pending", "completed"]  # newest first
        assert "bob@example.com" in await page.text("#privacy-rows")
        await page.click(f"[data-export='{export_request.id}']")
        done = await asyncio.wait_for(downloads.get(), 30)
        exported = orjson.loads((downloads_dir / done["guid"]).read_bytes())
        assert exported["export"] == export_request.export
        assert shopify.calls("GET", f"/api/compliance/requests/{export_request.id}/export")

        # What the merchant sees, kept with the test's files; it is a page, not a blank.
        shot = await page.screenshot(tmp_path / "app-home.png")
        colours = png_colours(shot)
        assert len(colours) > 30, "the screenshot is (nearly) one colour"
        assert colours.most_common(1)[0][1] < 0.9 * sum(colours.values())
        assert not [line for line in page.console if line.startswith("exception")]


async def test_errors_are_shown_so_the_merchant_can_act(shop_client, shop_config, fake, tmp_path):
    fake.add_shop(DOMAIN)
    await install_shop(shop_config, DOMAIN, access_token=fake.issue_token(DOMAIN))
    shopify = Shopify(shop_config)
    retry_401 = {"X-Shopify-Retry-Invalid-Session-Request": "1"}
    shopify.faults = {
        # Refused twice (the page retries once with a fresh token): the session is bad.
        "/api/extension": [_problem(401, "bad token", **retry_401)] * 2,
        # Rate limited: the page waits Retry-After and tries again by itself.
        "/api/analytics/summary": [_problem(429, "Slow down.", **{"Retry-After": "2"})],
        # The app's store is down: the merchant is told and can try again.
        "/api/compliance/requests": [_problem(503, "Database down.", **{"Retry-After": "60"})],
    }
    async with Chromium(tmp_path / "profile") as browser:
        page = await _open(browser, shopify, _home_url(shop_client, DOMAIN))
        await page.wait_in_page("document.querySelector('#pixel .message')")
        heading = "document.querySelector('%s .message').getAttribute('heading')"
        assert await page.evaluate(heading % "#pixel") == "Your session could not be verified"
        assert "Reload the app" in await page.text("#pixel .message")
        assert len(shopify.calls("GET", "/api/extension")) == 2

        banner = await page.wait_in_page(
            "document.querySelector('#analytics .message[data-status=\"429\"]')?.textContent"
        )
        assert "Slow down." in banner and "Trying again in 2 s" in banner
        assert await page.evaluate(heading % "#analytics") == "Too many requests"
        await page.wait_in_page("!document.querySelector('#analytics .message')")
        assert await page.evaluate("document.querySelectorAll('#funnel-chart rect').length") == 4
        assert len(shopify.calls("GET", "/api/analytics/summary")) == 2

        banner = await page.wait_in_page(
            "document.querySelector('#privacy .message[data-status=\"503\"]')?.textContent"
        )
        assert "Database down." in banner
        assert await page.evaluate(heading % "#privacy") == "Temporarily unavailable"
        await page.click("#privacy .message s-button")  # "Try again now"
        await page.wait_in_page("!document.querySelector('#privacy .message')")
        assert await page.evaluate("document.querySelector('#privacy-empty').hidden") is False
        assert len(shopify.calls("GET", "/api/compliance/requests")) == 2


async def test_a_reauthorization_answer_sends_the_top_frame_through_the_install(
    shop_client, shop_config, fake, tmp_path
):
    fake.add_shop(DOMAIN)
    shop = await install_shop(shop_config, DOMAIN, access_token=fake.issue_token(DOMAIN))
    shopify = Shopify(shop_config)
    async with Chromium(tmp_path / "profile") as browser:
        page = await _open(browser, shopify, _home_url(shop_client, DOMAIN))
        await page.wait_in_page("document.body.dataset.ready === 'true'")
        # Shopify stopped accepting the grant: the next call answers 403 re-authorize.
        await Shop.filter(id=shop.id).update(needs_reauth=True)
        await page.click("#sync-now")
        await asyncio.wait_for(shopify.authorized.wait(), 30)
    assert shopify.calls("POST", "/api/sync")
    authorize = urlsplit(shopify.authorize_urls[0])
    assert authorize.path == f"/{DOMAIN}/admin/oauth/authorize"
    assert parse_qs(authorize.query)["client_id"] == [shop_config.shopify.api_key]


async def test_in_the_admin_iframe_the_page_works_and_other_sites_cannot_frame_it(
    shop_client, shop_config, fake, tmp_path
):
    fake.add_shop(DOMAIN)
    await install_shop(shop_config, DOMAIN, access_token=fake.issue_token(DOMAIN))
    shopify = Shopify(shop_config)
    shopify.framed_url = _home_url(shop_client, DOMAIN)
    admin_url = f"https://admin.shopify.com/store/browser-home/apps/{shop_config.shopify.api_key}"
    async with Chromium(tmp_path / "profile", extra_flags=IN_PROCESS_FRAMES) as browser:
        admin = await _open(browser, shopify, admin_url)
        await admin.wait_in_page("document.readyState === 'complete'")
        app = await admin.frame_context(shopify.framed_url)
        await admin.wait_in_page("document.body.dataset.ready === 'true'", context_id=app)
        messages = "document.querySelectorAll('.message').length"
        assert await admin.evaluate(messages, context_id=app) == 0
        assert shopify.calls("GET", "/api/sync")
        assert all(call.token_valid for call in shopify.api_calls)

        # Any other site: the browser refuses to show the app in its frame (CSP).
        elsewhere = await _open(browser, shopify, "https://elsewhere.example/")
        await elsewhere.wait_in_page("document.readyState === 'complete'")
        [frame] = await elsewhere.frames()
        assert frame["url"].startswith("chrome-error://")
        assert frame["unreachableUrl"] == shopify.framed_url


async def test_a_shop_that_has_not_installed_breaks_out_into_the_install(
    shop_client, shop_config, fake, tmp_path
):
    newcomer = "newcomer-store.myshopify.com"
    fake.add_shop(newcomer)
    shopify = Shopify(shop_config)
    shopify.framed_url = _home_url(shop_client, newcomer)
    admin_url = f"https://admin.shopify.com/store/newcomer-store/apps/{shop_config.shopify.api_key}"
    async with Chromium(tmp_path / "profile", extra_flags=IN_PROCESS_FRAMES) as browser:
        admin = await _open(browser, shopify, admin_url)
        await asyncio.wait_for(shopify.authorized.wait(), 30)
        # The admin window itself (not the app's iframe) went to Shopify's authorize page.
        await admin.wait_in_page("location.pathname.endsWith('/admin/oauth/authorize')")
    authorize = urlsplit(shopify.authorize_urls[0])
    assert authorize.path == f"/{newcomer}/admin/oauth/authorize"
    query = parse_qs(authorize.query)
    assert query["client_id"] == [shop_config.shopify.api_key]
    assert query["redirect_uri"] == [f"{shop_config.app.url}/auth/callback"]
    assert not shopify.api_calls  # nothing was asked of the API for a shop not installed
