"""The real extension source in headless Chromium: it batches events and the server stores them.

The page stands in for Shopify's pixel sandbox: it provides `register` with `analytics`,
`browser`, `settings` (exactly what the backend sends in webPixelCreate/Update, ingest URL
included) and `init`, loads extensions/web-pixel/src/index.js (its one import removed),
fires standard, DOM and custom events, then hides the page. The page is served from another
origin than the app, so CORS is exercised by a real browser.

`./test` installs Chromium when it can (Debian's package, as root); where it cannot, these
tests skip and say why. CI (`.ci/run`) installs it and so always runs them.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from models import PixelEvent
from server.pixel.extension import pixel_settings
from tests.browser import HEADLESS_FLAGS
from tests.pixel_helpers import clear_rate_limits, pixel_shop, run_pixel_pipeline

ROOT = Path(__file__).resolve().parent.parent
PIXEL_SOURCE = ROOT / "extensions" / "web-pixel" / "src" / "index.js"

HARNESS = """<!doctype html>
<html><head><title>pixel harness</title></head><body><pre id="out">running</pre>
<script>
const pending = [];
const realFetch = window.fetch.bind(window);
window.fetch = (url, options) => {
  const p = realFetch(url, options);
  pending.push(p.then((r) => r.status, (e) => 'error:' + e));
  return p;
};
const subscribers = {};
window.register = (fn) => fn({
  analytics: {subscribe: (name, cb) => { (subscribers[name] = subscribers[name] || []).push(cb); }},
  browser: {cookie: {get: async () => ''}, localStorage: {getItem: async () => null}},
  settings: %(settings)s,
  init: {context: {}, data: {}},
});
</script>
<script>%(pixel)s</script>
<script>
let seq = 0;
const ctx = {document: {location: {href: 'https://shop.example/p?variant=1&email=a%%40b.co'},
             title: 'P'}, navigator: {language: 'en'}, window: {innerWidth: 800}};
function fire(stream, name, type, data) {
  seq += 1;
  const event = {id: %(prefix)s + seq, name, type, clientId: 'browser-client', seq,
                 timestamp: new Date().toISOString(), context: ctx, data};
  for (const cb of subscribers[stream] || []) cb(event);
}
fire('all_standard_events', 'page_viewed', 'standard', {});
fire('all_standard_events', 'product_viewed', 'standard', {productVariant: {id: '1'}});
fire('all_dom_events', 'clicked', 'dom', {element: {id: 'buy'}});
fire('all_standard_events', 'product_added_to_cart', 'standard', {cartLine: {quantity: 1}});
fire('all_custom_events', 'my_app:wishlist', 'custom', {sku: 'A'});
// The page is hidden: the pixel must flush what it holds, with fetch keepalive.
Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
document.dispatchEvent(new Event('visibilitychange'));
fire('all_standard_events', 'checkout_completed', 'standard',
     {checkout: {totalPrice: {amount: 10.5, currencyCode: 'EUR'}, currencyCode: 'EUR'}});
setTimeout(async () => {
  const statuses = await Promise.all(pending);
  document.getElementById('out').textContent = 'done ' + JSON.stringify(statuses);
}, %(done_after_ms)d);
</script></body></html>
"""


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,  # drives headless Chromium
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed and ./test could not install it here "
        "(apt-get install chromium, as root)",
    ),
]


def _pixel_script() -> str:
    source = PIXEL_SOURCE.read_text()
    source = re.sub(r"^import .*?;\n", "", source, flags=re.M)
    return source.replace("export function", "function")


def _settings(pixel, app_url: str) -> str:
    """The settings the backend gives this pixel when the app's public URL is `app_url`."""
    return orjson.dumps(pixel_settings(pixel, app_url=app_url)).decode()


async def _run_page(chromium: str, url: str, tmp_path: Path) -> list:
    """Load the page in headless Chromium (virtual time) and return the fetch statuses."""
    process = await asyncio.create_subprocess_exec(
        chromium,
        *HEADLESS_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    dom = stdout.decode()
    match = re.search(r"done (\[.*?\])", dom)
    assert match, f"the page did not finish: {dom[-2000:]} {stderr.decode()[-2000:]}"
    statuses: list = orjson.loads(match.group(1))
    return statuses


async def _serve_harness(
    aiohttp_server, pixel, app_url: str, prefix: str, *, done_after_ms: int
) -> str:
    """The harness page with the pixel, served from another origin than the app; its URL."""
    page = HARNESS % {
        "settings": _settings(pixel, app_url),
        "pixel": _pixel_script(),
        "prefix": orjson.dumps(prefix).decode(),
        "done_after_ms": done_after_ms,
    }

    async def harness(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    site = web.Application()
    site.router.add_get("/", harness)
    page_server = await aiohttp_server(site)
    return str(page_server.make_url("/"))


async def test_pixel_in_headless_chromium_posts_events_the_server_stores(
    client, config, stub_worker, redis_client, aiohttp_server, tmp_path
):
    assert CHROMIUM is not None
    chromium = CHROMIUM
    await clear_rate_limits(redis_client)
    shop, pixel = await pixel_shop(config)
    prefix = f"b-{uuid.uuid4().hex[:8]}-"
    page_url = await _serve_harness(
        aiohttp_server, pixel, str(client.make_url("/")), prefix, done_after_ms=50
    )
    statuses = await _run_page(chromium, page_url, tmp_path)
    # Five events batched before the page was hidden, then the urgent checkout_completed.
    assert statuses and all(s == 202 for s in statuses), statuses
    assert len(statuses) < 6

    await run_pixel_pipeline(stub_worker)
    rows = await PixelEvent.filter(shop_id=shop.id).order_by("seq")
    assert [r.name for r in rows] == [
        "page_viewed",
        "product_viewed",
        "clicked",
        "product_added_to_cart",
        "my_app:wishlist",
        "checkout_completed",
    ]
    assert all(r.event_id.startswith(prefix) for r in rows)
    assert rows[0].context["document"]["location"]["href"] == "https://shop.example/p?variant=1"
    await pixel.refresh_from_db()
    assert pixel.version == "1.0.0"


async def test_pixel_in_chromium_retries_after_retry_after(
    client, config, stub_worker, redis_client, aiohttp_server, tmp_path
):
    """The ingest answers 429 with Retry-After once: the pixel waits, resends, nothing lost."""
    import aiohttp

    assert CHROMIUM is not None
    chromium = CHROMIUM
    await clear_rate_limits(redis_client)
    shop, pixel = await pixel_shop(config)
    prefix = f"r-{uuid.uuid4().hex[:8]}-"
    app_url = str(client.make_url("/pixel/events"))
    bodies: list[bytes] = []
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}

    async def gate(request: web.Request) -> web.Response:
        # Stands in for the app under load: the first post is refused with Retry-After.
        body = await request.read()
        bodies.append(body)
        if len(bodies) == 1:
            return web.Response(status=429, headers={**cors, "Retry-After": "2"})
        async with aiohttp.ClientSession() as session, session.post(app_url, data=body) as r:
            return web.Response(status=r.status, body=await r.read(), headers=cors)

    gate_app = web.Application()
    gate_app.router.add_post("/pixel/events", gate)
    gate_server = await aiohttp_server(gate_app)
    page_url = await _serve_harness(
        aiohttp_server, pixel, str(gate_server.make_url("/")), prefix, done_after_ms=6000
    )
    statuses = await _run_page(chromium, page_url, tmp_path)
    assert statuses[0] == 429 and statuses.count(429) == 1
    assert statuses[1:] and all(s == 202 for s in statuses[1:]), statuses
    first_ids = [e["id"] for e in orjson.loads(bodies[0])["events"]]
    resent = [e["id"] for b in bodies[1:] for e in orjson.loads(b)["events"]]
    assert set(first_ids) <= set(resent)  # the refused batch was sent again
    await run_pixel_pipeline(stub_worker)
    stored = await PixelEvent.filter(shop_id=shop.id).values_list("event_id", flat=True)
    assert sorted(stored) == sorted({*resent})
    assert len(stored) == 6
