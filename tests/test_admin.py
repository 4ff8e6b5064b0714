"""GET / as Shopify's admin and merchants reach it: which page, and the headers every HTML
answer carries (CSP frame-ancestors for the validated shop, never a frame ban)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import orjson
import pytest

from models import Shop
from tests.helpers import DatabaseDown, install_shop
from tests.shopify_signing import documented_hmac

SHOP = "home-store.myshopify.com"
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
POLARIS = "https://cdn.shopify.com/shopifycloud/polaris-1.js"


def _assert_framable_by(response, shop: str | None) -> None:
    csp = response.headers["Content-Security-Policy"]
    if shop is None:
        assert csp == "frame-ancestors 'none'"
    else:
        assert csp == f"frame-ancestors https://{shop} https://admin.shopify.com"
    assert "*" not in csp
    assert "X-Frame-Options" not in response.headers


def _scripts(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page)


async def test_no_shop_is_a_short_page_about_the_app(client):
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "backend of a Shopify app" in page and "/auth/install?shop=" in page
    _assert_framable_by(response, None)


@pytest.mark.parametrize(
    "shop", ["evil.com", "a.myshopify.com.evil.com", "a.myshopify.com https://evil.com", "*"]
)
async def test_a_shop_that_is_not_a_shop_is_400_and_never_reaches_the_header(client, shop):
    response = await client.get("/", params={"shop": shop})
    assert response.status == 400
    assert response.content_type == "text/html"
    assert "myshopify.com" in await response.text()
    _assert_framable_by(response, None)


async def test_installed_shop_gets_the_home_page_with_app_bridge_and_polaris(client, config):
    await install_shop(config, SHOP)
    query = {
        "shop": SHOP.upper(),
        "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvaG9tZS1zdG9yZQ",
        "embedded": "1",
    }
    response = await client.get("/", params=query)
    assert response.status == 200
    page = await response.text()
    _assert_framable_by(response, SHOP)  # the normalised domain
    assert f'<meta name="shopify-api-key" content="{config.shopify.api_key}">' in page
    scripts = _scripts(page)
    assert scripts[0] == APP_BRIDGE  # App Bridge must be the first script
    assert scripts[1] == POLARIS
    assert re.fullmatch(r"/admin/static/app\.js\?v=[0-9a-f]{12}", scripts[2])
    assert "<s-page" in page and "<s-section" in page and 'id="sync-now"' in page
    assert f'"shop":"{SHOP}"' in page


async def test_static_files_are_served_immutable_and_only_ours(client):
    page = await (await client.get("/")).text()
    css = re.search(r'href="(/admin/static/app\.css\?v=\w+)"', page)
    assert css
    response = await client.get(css.group(1))
    assert response.status == 200 and response.content_type == "text/css"
    assert "immutable" in response.headers["Cache-Control"]
    script = await client.get("/admin/static/app.js")  # not the page's versioned URL
    assert script.content_type == "text/javascript"
    assert script.headers["Cache-Control"] == "no-cache"
    assert "shopify.idToken()" in await script.text()
    for name in ("../__init__.py", "nope.js", "%2e%2e%2fhttp.py"):
        missing = await client.get(f"/admin/static/{name}")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"


async def test_a_shop_that_has_not_installed_goes_to_the_install(client):
    response = await client.get("/", params={"shop": SHOP}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/auth/install?shop={SHOP}"


async def test_inside_the_admin_the_install_breaks_out_of_the_iframe(client, config):
    response = await client.get("/", params={"shop": SHOP, "embedded": "1"})
    assert response.status == 200
    page = await response.text()
    _assert_framable_by(response, SHOP)
    # App Bridge loads and our script sends the top frame (not the iframe) to the install.
    assert _scripts(page)[0] == APP_BRIDGE
    assert f'content="{config.shopify.api_key}"' in page
    assert f'"redirect":"/auth/install?shop={SHOP}"' in page
    assert f'href="/auth/install?shop={SHOP}" target="_top"' in page


@pytest.mark.parametrize("state", ["uninstalled", "needs_reauth"])
async def test_uninstalled_or_refused_shops_are_sent_to_the_install(client, config, state):
    shop = await install_shop(config, SHOP)
    if state == "uninstalled":
        await Shop.filter(id=shop.id).update(uninstalled_at=shop.installed_at)
    else:
        await Shop.filter(id=shop.id).update(needs_reauth=True)
    response = await client.get("/", params={"shop": SHOP}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/auth/install?shop={SHOP}"


async def test_shopify_signed_links_are_checked(client, config):
    await install_shop(config, SHOP)
    params = {"shop": SHOP, "host": "aG9zdA", "embedded": "1", "timestamp": "1700000000"}
    signed = {**params, "hmac": documented_hmac(params, config.shopify.api_secret.reveal())}
    assert (await client.get("/?" + urlencode(signed))).status == 200
    forged = {**signed, "shop": "other-store.myshopify.com"}
    response = await client.get("/?" + urlencode(forged))
    assert response.status == 401
    assert response.content_type == "text/html"
    _assert_framable_by(response, "other-store.myshopify.com")


@pytest.mark.slow  # fault injection: the database refuses connections
async def test_a_database_that_is_down_is_an_html_503(client, clean_database):
    async with DatabaseDown(clean_database):
        response = await client.get("/", params={"shop": SHOP, "embedded": "1"})
    assert response.status == 503
    assert response.headers["Retry-After"]
    assert response.content_type == "text/html"
    _assert_framable_by(response, SHOP)


async def test_json_answers_carry_no_frame_policy(client):
    # The header is for documents; JSON and problem+json answers are never framed.
    for path in ("/healthz", "/openapi.json", "/nope"):
        assert "Content-Security-Policy" not in (await client.get(path)).headers


async def test_the_html_routes_are_in_openapi(client):
    paths = (await (await client.get("/openapi.json")).json())["paths"]
    home = paths["/"]["get"]
    assert "text/html" in home["responses"]["200"]["content"]
    assert "Content-Security-Policy" in home["responses"]["200"]["headers"]
    assert "get" in paths["/admin/static/{name}"]


async def test_every_value_a_page_shows_is_escaped(make_client, make_config):
    # Autoescaping is on: a value with markup (here an API key) cannot leave the attribute
    # it sits in; the page's JSON config is JSON (not HTML-escaped) inside its <script>.
    hostile = 'key"><script>alert(1)</script>'
    config = make_config(SHOPIFY_API_KEY=hostile)
    client = await make_client(config)
    await install_shop(config, SHOP)
    page = await (await client.get("/", params={"shop": SHOP, "embedded": "1"})).text()
    assert hostile not in page
    assert (
        '<meta name="shopify-api-key" content="key&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
        in page
    )
    config_json = re.search(r'<script type="application/json" id="app-config">(.*?)</script>', page)
    assert config_json
    assert orjson.loads(config_json.group(1)) == {
        "shop": SHOP,
        "installUrl": f"/auth/install?shop={SHOP}",
    }
