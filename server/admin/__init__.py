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
def static_version(name: str) -> str:
    """A short content hash, so a static URL changes whenever the file does."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The versioned URL of one static file."""
    return f"/admin/static/{name}?v={static_version(name)}"


def json_for_script(value: object) -> str:
    """JSON for a page (Jinja's `tojson` escapes `<`, `>`, `&` and `'` in it after this, so
    no `</script>` can end the script element it sits in)."""
    return orjson.dumps(value).decode()


def home_context(*, api_key: str, shop: str) -> dict[str, object]:
    """What home.html shows: the app home for an installed shop."""
    return {"api_key": api_key, "config": {"shop": shop, "installUrl": install_path(shop)}}


def exit_iframe_context(*, api_key: str, shop: str) -> dict[str, object]:
    """What exit_iframe.html shows: App Bridge sends the top frame (the admin, not our
    iframe) to the install."""
    return {
        "api_key": api_key,
        "install_url": install_path(shop),
        "config": {"shop": shop, "redirect": install_path(shop)},
    }
