"""Session-token auth for every /api/* route (embedded admin, App Bridge id tokens)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from models import Shop
from server.logs import shop_var
from server.problem import Problem
from server.security.session_token import (
    SessionToken,
    SessionTokenError,
    bearer_token,
    decode_session_token,
)
from server.shopify.errors import (
    ShopifyAuthError,
    ShopifyConnectionError,
    ShopifyError,
    ShopifyServerError,
    ShopifyThrottledError,
    ShopifyUserError,
)
from server.shops.tokens import ReauthRequiredError, ShopTokenError, TokenRefreshError
from server.web import keys
from server.web.responses import problem_response

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Shopify's convention: tells App Bridge to fetch a fresh session token and retry.
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"


def unauthorized(detail: str) -> web.Response:
    """401 problem+json with the retry header embedded apps expect."""
    return problem_response(
        401, detail, headers={RETRY_HEADER: "1", "WWW-Authenticate": 'Bearer realm="shopify"'}
    )


def verify_session_token(request: web.Request) -> SessionToken:
    """The request's verified session token; raises SessionTokenError."""
    config = request.app[keys.CONFIG]
    token = bearer_token(request.headers.get("Authorization"))
    return decode_session_token(
        token, api_key=config.shopify.api_key, secrets=config.shopify.api_secrets()
    )


@web.middleware
async def session_token_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate /api/* by session token; the handler gets the installed shop."""
    if not request.path.startswith(API_PREFIX) or request.method == "OPTIONS":
        return await handler(request)
    try:
        session = verify_session_token(request)
    except SessionTokenError as e:
        log.info("session token rejected: %s", e)
        return unauthorized(str(e))
    shop = await Shop.get_or_none(domain=session.shop)
    if shop is None or shop.uninstalled_at is not None or shop.installed_at is None:
        return unauthorized(f"{session.shop} has not installed the app")
    request[keys.SHOP] = shop
    shop_var.set(shop.domain)
    return await handler(request)


REAUTH_TYPE = "https://shopify.dev/docs/apps/build/authentication-authorization"


def reauth_problem(app_url: str, shop: str) -> Problem:
    """403: Shopify no longer accepts the shop's grant; App Bridge should re-authorize."""
    url = f"{app_url}/auth/install?shop={shop}"
    return Problem(
        403,
        "Shopify no longer accepts this shop's grant; the merchant must authorize the app again",
        title="Re-authorization required",
        type_=REAUTH_TYPE,
        headers={
            "X-Shopify-API-Request-Failure-Reauthorize": "1",
            "X-Shopify-API-Request-Failure-Reauthorize-Url": url,
        },
        reauthorize_url=url,
    )


def token_problem(error: ShopTokenError, *, app_url: str) -> Problem:
    """The HTTP answer for a shop without a usable Admin API token."""
    if isinstance(error, ReauthRequiredError):
        return reauth_problem(app_url, error.shop)
    if isinstance(error, TokenRefreshError):
        # Shopify's token endpoint failed for now: not the merchant's problem.
        return Problem.unavailable("Shopify's token endpoint is unavailable; try again shortly")
    return Problem(401, f"{error.shop} has not installed the app", headers={RETRY_HEADER: "1"})


def shopify_problem(error: ShopifyError, *, what: str, unavailable: str) -> Problem:
    """Shopify's refusal of a change the app asked for (`what`: "the charge") as our
    problem: userErrors 422 naming each field, a refused token 401 (App Bridge retries with
    a fresh session), Shopify down 503 with Retry-After (`unavailable` says what that
    left undone), anything else 502."""
    if isinstance(error, ShopifyUserError):
        errors = [
            {key: e[key] for key in ("field", "code", "message") if key in e}
            for e in error.user_errors
            if isinstance(e, dict)
        ]
        named = "; ".join(
            ": ".join(
                part
                for part in (".".join(map(str, e.get("field") or [])), e.get("message") or "")
                if part
            )
            or str(e.get("code") or "error")
            for e in errors
        )
        return Problem(
            422,
            f"Shopify refused {what}: {named or 'userErrors'}",
            title="Shopify user error",
            user_errors=errors,
        )
    if isinstance(error, ShopifyAuthError):
        return Problem(
            401,
            "Shopify rejected the app's access token; the shop must authorise the app again",
            headers={RETRY_HEADER: "1"},
        )
    if isinstance(error, ShopifyServerError | ShopifyConnectionError | ShopifyThrottledError):
        return Problem.unavailable(unavailable)
    return Problem(502, f"Shopify answered {what} with an error")
