"""The merchant's app home inside Shopify's admin: which page a request gets, and its HTML.

Shopify's admin opens the app's URL (`/?shop=...&host=...&embedded=1`) in an iframe. An
installed shop gets the home page (App Bridge + Polaris web components + our own small
script, which calls the `/api/*` routes with App Bridge's session token); a shop that has
not installed, or must authorize again, is sent into the install with an iframe breakout;
no shop at all gets a short page saying what this is. Nothing here imports aiohttp.web:
`server/admin/http.py` is the edge.
"""

from __future__ import annotations

import functools
import hashlib
import html
import string
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlencode

import orjson

from models import Shop
from server.security.hmac import normalize_shop

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Shopify's CDN: App Bridge is unversioned; polaris-1.js follows Polaris 1's stable releases.
APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
POLARIS_URL = "https://cdn.shopify.com/shopifycloud/polaris-1.js"
ADMIN_ORIGIN = "https://admin.shopify.com"

STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
STATIC_FILES = frozenset(p.name for p in STATIC.iterdir() if p.suffix in STATIC_TYPES)


class HomeKind(Enum):
    """What GET / answers."""

    ABOUT = "about"  # no shop: what this is
    APP = "app"  # an installed shop: the home page
    INSTALL = "install"  # not installed (or must authorize again): into the install


@dataclass(frozen=True, slots=True)
class Home:
    """The decision for one GET /: the page kind and the shop it is for."""

    kind: HomeKind
    shop: str | None


def frame_ancestors(shop_param: str | None) -> str:
    """The CSP for an HTML answer: the shop's admin and Shopify's unified admin may frame it.

    Only a valid *.myshopify.com domain is ever written into the header (never `*`); without
    one nobody may frame the page, as Shopify's own libraries do.
    """
    shop = normalize_shop(shop_param)
    if shop is None:
        return "frame-ancestors 'none'"
    return f"frame-ancestors https://{shop} {ADMIN_ORIGIN}"


async def decide(shop_param: str | None) -> Home:
    """Which page GET / serves; raises ValueError for a shop parameter that is not a shop."""
    if not shop_param:
        return Home(HomeKind.ABOUT, None)
    shop = normalize_shop(shop_param)
    if shop is None:
        raise ValueError("shop must be a *.myshopify.com domain")
    row = await Shop.get_or_none(domain=shop)
    if row is None or not row.installed or row.needs_reauth:
        return Home(HomeKind.INSTALL, shop)
    return Home(HomeKind.APP, shop)


def install_path(shop: str) -> str:
    """The app's own install route for a shop (relative: the page resolves it)."""
    return f"/auth/install?{urlencode({'shop': shop})}"


@functools.cache
def _template(name: str) -> string.Template:
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8"))


@functools.cache
def static_version(name: str) -> str:
    """A short content hash, so a static URL changes whenever the file does."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The versioned URL of one static file."""
    return f"/admin/static/{name}?v={static_version(name)}"


def _json_for_script(value: object) -> str:
    # Inside <script type="application/json">: `<` escaped so no `</script>` can end it.
    return orjson.dumps(value).decode().replace("<", "\\u003c").replace(">", "\\u003e")


def render(name: str, **values: str) -> str:
    """A template with every value HTML-escaped (the page config is JSON, escaped for it)."""
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    return _template(name).substitute(
        escaped, app_js=static_url("app.js"), app_css=static_url("app.css")
    )


def home_page(*, api_key: str, shop: str) -> str:
    """The app home for an installed shop."""
    config = {"shop": shop, "installUrl": install_path(shop)}
    return _template("home.html").substitute(
        api_key=html.escape(api_key, quote=True),
        app_bridge_url=APP_BRIDGE_URL,
        polaris_url=POLARIS_URL,
        app_js=static_url("app.js"),
        app_css=static_url("app.css"),
        config=_json_for_script(config),
    )


def exit_iframe_page(*, api_key: str, shop: str) -> str:
    """Loads App Bridge and sends the top frame (the admin, not our iframe) to the install."""
    config = {"shop": shop, "redirect": install_path(shop)}
    return _template("exit_iframe.html").substitute(
        api_key=html.escape(api_key, quote=True),
        app_bridge_url=APP_BRIDGE_URL,
        install_url=html.escape(install_path(shop), quote=True),
        app_js=static_url("app.js"),
        app_css=static_url("app.css"),
        config=_json_for_script(config),
    )
