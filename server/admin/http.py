"""The app home's HTTP edge: GET /, its static files, and the CSP every HTML answer carries."""

from __future__ import annotations

import logging

from aiohttp import web
from tortoise.exceptions import OperationalError

from server import admin
from server.problem import RETRY_AFTER_S, retry_after_header
from server.security.hmac import verify_query_hmac
from server.stores import STORE_DOWN_ERRORS
from server.web import keys

log = logging.getLogger(__name__)

HTML = "text/html"
# Our pages name static files with their content hash (`?v=`): such a URL never changes.
STATIC_CACHE_VERSIONED = "public, max-age=31536000, immutable"
STATIC_CACHE_OTHER = "no-cache"
_DB_ERRORS: tuple[type[BaseException], ...] = (*STORE_DOWN_ERRORS, OperationalError)


def _html(text: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=text, status=status, content_type=HTML, charset="utf-8", headers=headers
    )


def _error_page(status: int, title: str, message: str, **headers: str) -> web.Response:
    page = admin.render("error.html", title=title, message=message, status=str(status))
    return _html(page, status=status, headers=headers or None)


async def home(request: web.Request) -> web.Response:
    """GET /: the app home, the install breakout, or a short page about the app."""
    config = request.app[keys.CONFIG]
    query = request.query
    if "hmac" in query and not verify_query_hmac(query.items(), config.shopify.api_secrets()):
        return _error_page(
            401,
            "Link not valid",
            "This link's signature does not verify. Open the app again from your Shopify admin.",
        )
    try:
        decision = await admin.decide(query.get("shop"))
    except ValueError:
        return _error_page(
            400,
            "Not a Shopify store",
            "The shop parameter must be a store's *.myshopify.com domain.",
        )
    except _DB_ERRORS as e:
        log.error("store unavailable on the app home: %s", type(e).__name__)
        return _error_page(
            503,
            "Temporarily unavailable",
            "The app cannot reach its database right now. Reload this page in a few seconds.",
            **retry_after_header(RETRY_AFTER_S),
        )
    if decision.kind is admin.HomeKind.ABOUT:
        return _html(admin.render("about.html"))
    assert decision.shop is not None
    if decision.kind is admin.HomeKind.INSTALL:
        log.info("app home for a shop that must install", extra={"shop": decision.shop})
        if query.get("embedded") == "1":
            # Inside the admin's iframe Shopify's authorize page cannot load (it refuses to
            # be framed): App Bridge sends the top frame there instead.
            page = admin.exit_iframe_page(api_key=config.shopify.api_key, shop=decision.shop)
            return _html(page)
        raise web.HTTPFound(admin.install_path(decision.shop))
    return _html(admin.home_page(api_key=config.shopify.api_key, shop=decision.shop))


async def static(request: web.Request) -> web.StreamResponse:
    """GET /admin/static/{name}: the home page's own script and stylesheet (a fixed list)."""
    name = request.match_info["name"]
    if name not in admin.STATIC_FILES:
        raise web.HTTPNotFound()
    path = admin.STATIC / name
    current = request.query.get("v") == admin.static_version(name)
    cache = STATIC_CACHE_VERSIONED if current else STATIC_CACHE_OTHER
    response = web.FileResponse(path, headers={"Cache-Control": cache})
    response.content_type = admin.STATIC_TYPES[path.suffix]
    return response


async def frame_ancestors(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every HTML answer says who may frame it; nothing forbids it."""
    if response.content_type != HTML:
        return
    response.headers["Content-Security-Policy"] = admin.frame_ancestors(request.query.get("shop"))
    response.headers.popall("X-Frame-Options", None)
