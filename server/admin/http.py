"""The app home's HTTP edge: GET /, its static files, and the CSP every HTML answer carries."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from tortoise.exceptions import OperationalError

from server import admin
from server.admin.graphql import parse_proxy_request, proxy_credentials
from server.problem import RETRY_AFTER_S, Problem, retry_after_header
from server.security.hmac import verify_query_hmac
from server.security.session_token import SessionTokenError, staff_user_id
from server.shopify.deprecations import DEPRECATED_HEADER
from server.shopify.errors import (
    ShopifyAuthError,
    ShopifyConnectionError,
    ShopifyServerError,
    ShopifyThrottledError,
)
from server.shopify.oauth import InvalidGrantError, OAuthError
from server.shops.tokens import ShopTokenError
from server.store_errors import STORE_DOWN_ERRORS
from server.web import keys
from server.web.session_auth import token_problem, unauthorized, verify_session_token

log = logging.getLogger(__name__)

HTML = "text/html"
# Our pages name static files with their content hash (`?v=`): such a URL never changes.
STATIC_CACHE_VERSIONED = "public, max-age=31536000, immutable"
STATIC_CACHE_OTHER = "no-cache"
ACTING_AS_HEADER = "X-Acting-As"
_DB_ERRORS: tuple[type[BaseException], ...] = (*STORE_DOWN_ERRORS, OperationalError)


def setup_templates(app: web.Application) -> None:
    """The app home's Jinja environment: autoescaped (every value is HTML-escaped unless a
    template says otherwise), templates compiled once (they ship with the code)."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(admin.TEMPLATES),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.globals.update(
        static_url=admin.static_url,
        app_bridge_url=admin.APP_BRIDGE_URL,
        polaris_url=admin.POLARIS_URL,
    )
    # `tojson` with orjson, compact; Jinja then escapes it for a <script> element.
    env.policies["json.dumps_function"] = admin.json_for_script
    env.policies["json.dumps_kwargs"] = {}


def _page(
    request: web.Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    response = aiohttp_jinja2.render_template(name, request, context, status=status)
    if headers:
        response.headers.update(headers)
    return response


def _error_page(
    request: web.Request, status: int, title: str, message: str, **headers: str
) -> web.Response:
    context = {"title": title, "message": message, "status": status}
    return _page(request, "error.html", context, status=status, headers=headers)


async def home(request: web.Request) -> web.Response:
    """GET /: the app home, the install breakout, or a short page about the app."""
    config = request.app[keys.CONFIG]
    query = request.query
    if "hmac" in query and not verify_query_hmac(query.items(), config.shopify.api_secrets()):
        return _error_page(
            request,
            401,
            "Link not valid",
            "This link's signature does not verify. Open the app again from your Shopify admin.",
        )
    try:
        decision = await admin.decide(query.get("shop"))
    except ValueError:
        return _error_page(
            request,
            400,
            "Not a Shopify store",
            "The shop parameter must be a store's *.myshopify.com domain.",
        )
    except _DB_ERRORS as e:
        log.error("store unavailable on the app home: %s", type(e).__name__)
        return _error_page(
            request,
            503,
            "Temporarily unavailable",
            "The app cannot reach its database right now. Reload this page in a few seconds.",
            **retry_after_header(RETRY_AFTER_S),
        )
    if decision.kind is admin.HomeKind.ABOUT:
        return _page(request, "about.html", {})
    assert decision.shop is not None
    if decision.kind is admin.HomeKind.INSTALL:
        log.info("app home for a shop that must install", extra={"shop": decision.shop})
        if query.get("embedded") == "1":
            # Inside the admin's iframe Shopify's authorize page cannot load (it refuses to
            # be framed): App Bridge sends the top frame there instead.
            context = admin.exit_iframe_context(api_key=config.shopify.api_key, shop=decision.shop)
            return _page(request, "exit_iframe.html", context)
        raise web.HTTPFound(admin.install_path(decision.shop))
    context = admin.home_context(api_key=config.shopify.api_key, shop=decision.shop)
    return _page(request, "home.html", context)


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


async def graphql_proxy(request: web.Request) -> web.StreamResponse:
    """POST /api/graphql: the app home's GraphQL to the Admin API, Shopify's answer as sent."""
    config = request.app[keys.CONFIG]
    limit = config.limits.graphql_max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, f"the body is larger than {limit} bytes", max_bytes=limit)
    body = await request.read()
    if len(body) > limit:
        raise Problem(413, f"the body is larger than {limit} bytes", max_bytes=limit)
    proxied = parse_proxy_request(body)
    try:
        # The middleware verified it already; the handler needs its `sub` and raw form.
        session = verify_session_token(request)
    except SessionTokenError as e:
        return unauthorized(str(e))
    shop = request[keys.SHOP]
    user_id = staff_user_id(session.user_id)
    try:
        chosen = await proxy_credentials(
            request.app[keys.SERVICES],
            shop,
            user_id=user_id,
            session_token=request.headers["Authorization"].partition(" ")[2].strip(),
            online_tokens=config.shopify.online_tokens,
        )
    except InvalidGrantError:
        return unauthorized("Shopify refused the session token for an online token")
    except OAuthError as e:
        raise Problem.unavailable(
            f"Shopify's token endpoint failed ({e.status or 'no answer'})"
        ) from None
    except ShopTokenError as e:
        raise token_problem(e, app_url=config.app.url) from e
    try:
        answer = await request.app[keys.SHOPIFY].forward(
            chosen.creds,
            proxied.query,
            proxied.variables,
            named_operation=proxied.operation_name,
        )
    except ShopifyThrottledError:
        raise Problem(
            429, "the shop's Admin API cost budget is spent for now", retry_after=RETRY_AFTER_S
        ) from None
    except ShopifyAuthError:
        if chosen.user_id is not None:
            # Shopify no longer takes the staff member's token: forget it; the retry App
            # Bridge makes gets a new one (or the offline token).
            await request.app[keys.SHOP_TOKENS].drop_online_token(shop, chosen.user_id)
        return unauthorized("Shopify rejected the access token; retry with a new session token")
    except (ShopifyServerError, ShopifyConnectionError) as e:
        log.warning("graphql proxy: Shopify unavailable: %s", type(e).__name__)
        raise Problem.unavailable("Shopify is unavailable; retry shortly") from None
    # Whose permissions Shopify applied: the staff member's (online token) or the app's.
    headers = {ACTING_AS_HEADER: "staff" if chosen.user_id is not None else "app"}
    if answer.retry_after_s is not None:
        headers |= retry_after_header(answer.retry_after_s)
    if answer.deprecated_reason:
        # The app home's developer sees what Shopify said about their query.
        headers[DEPRECATED_HEADER] = answer.deprecated_reason
    response = web.Response(status=answer.status, body=answer.body, headers=headers)
    response.content_type = answer.content_type.split(";", 1)[0].strip() or "application/json"
    return response
