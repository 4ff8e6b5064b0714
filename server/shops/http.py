"""OAuth install and callback, and token exchange for embedded apps."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web
from aiohttp_session import get_session, new_session

from models import Shop
from server.actor_names import SHOP_INSTALLED
from server.config import Config
from server.inputs import Body, Bool, Field
from server.logs import shop_var
from server.problem import RETRY_AFTER_S, Problem
from server.security.hmac import normalize_shop, verify_query_hmac
from server.security.session_token import SessionTokenError, staff_user_id
from server.shopify.oauth import AccessTokenResponse, InvalidGrantError, OAuthError
from server.shops.tokens import missing_scopes
from server.tasks import enqueue_or_503
from server.web import keys
from server.web.responses import json_response
from server.web.session_auth import unauthorized, verify_session_token

log = logging.getLogger(__name__)

STATE_KEY = "oauth_state"
STATE_SHOP_KEY = "oauth_shop"
SPENT_STATE_TTL_S = 3600


def _shop_or_400(value: str | None) -> str:
    shop = normalize_shop(value)
    if shop is None:
        raise Problem(400, "shop must be a *.myshopify.com domain", title="Invalid shop")
    return shop


async def install(request: web.Request) -> web.Response:
    """Start OAuth: a fresh nonce in the session cookie, then redirect to Shopify."""
    config = request.app[keys.CONFIG]
    query = request.query
    if "hmac" in query and not verify_query_hmac(query.items(), config.shopify.api_secrets()):
        raise Problem(401, "the request's HMAC does not verify", title="Invalid HMAC")
    shop = _shop_or_400(query.get("shop"))
    shop_var.set(shop)
    nonce = secrets.token_urlsafe(32)
    session = await new_session(request)
    session[STATE_KEY] = nonce
    session[STATE_SHOP_KEY] = shop
    params = {
        "client_id": config.shopify.api_key,
        "scope": ",".join(config.shopify.scopes),
        "redirect_uri": f"{config.app.url}/auth/callback",
        "state": nonce,
    }
    location = f"{config.shopify.shop_origin(shop)}/admin/oauth/authorize?{urlencode(params)}"
    log.info("install started", extra={"shop": shop})
    raise web.HTTPFound(location)


async def callback(request: web.Request) -> web.Response:
    """Finish OAuth: HMAC, state (spent once), shop, timestamp; then exchange and store."""
    config = request.app[keys.CONFIG]
    query = request.query
    if not verify_query_hmac(query.items(), config.shopify.api_secrets()):
        raise Problem(
            401, "the callback's HMAC is missing or does not verify", title="Invalid HMAC"
        )
    shop = _shop_or_400(query.get("shop"))
    shop_var.set(shop)
    _check_timestamp(query.get("timestamp"), window_s=config.security.oauth_timestamp_window_s)
    code = query.get("code", "")
    if not code:
        raise Problem(400, "the callback has no authorization code", title="Missing code")

    session = await get_session(request)
    expected = session.pop(STATE_KEY, None)
    expected_shop = session.pop(STATE_SHOP_KEY, None)
    state = query.get("state", "")
    if not expected or not state or not secrets.compare_digest(str(expected), state):
        raise Problem(
            400,
            "state does not match this browser's install request; start again",
            title="Invalid state",
        )
    if expected_shop != shop:
        raise Problem(
            400, "the callback is for another shop than the install request", title="Invalid state"
        )
    # A nonce is good once, even if an old copy of the cookie is replayed.
    spent_key = f"oauth:state:spent:{hashlib.sha256(state.encode()).hexdigest()}"
    if not await request.app[keys.REDIS].set(spent_key, 1, nx=True, ex=SPENT_STATE_TTL_S):
        raise Problem(
            400, "this install request was already used; start again", title="Invalid state"
        )

    try:
        grant = await request.app[keys.OAUTH].exchange_code(shop, code)
    except InvalidGrantError:
        raise Problem(
            400,
            "Shopify refused the authorization code; start the install again",
            title="Invalid code",
        ) from None
    except OAuthError as e:
        raise _token_endpoint_failed(e) from None
    await _store_and_follow_up(request, shop, grant, installing=True)
    raise web.HTTPFound(_admin_app_url(config, shop, query.get("host")))


def _token_endpoint_failed(error: OAuthError) -> Problem:
    """502 with Retry-After: Shopify's token endpoint failed, not the merchant."""
    return Problem(
        502,
        f"Shopify's token endpoint failed ({error.status or 'no answer'})",
        retry_after=RETRY_AFTER_S,
    )


MAX_EXCHANGE_BODY_BYTES = 1024
# POST /auth/token-exchange's body (optional): parsed here, documented from here.
EXCHANGE_BODY = Body(
    (Field("online", Bool(), "online must be true or false"),),
    expected="the body must be a JSON object",
    closed=False,
    title="Malformed request",
)


async def _wants_online(request: web.Request) -> bool:
    """`{"online": true|false}` in the body; no body (or no `online`): the configured default."""
    default = request.app[keys.CONFIG].shopify.online_tokens
    if request.content_length is not None and request.content_length > MAX_EXCHANGE_BODY_BYTES:
        raise Problem(413, f"the body is larger than {MAX_EXCHANGE_BODY_BYTES} bytes")
    body = await request.read()
    if len(body) > MAX_EXCHANGE_BODY_BYTES:
        raise Problem(413, f"the body is larger than {MAX_EXCHANGE_BODY_BYTES} bytes")
    if not body.strip():
        return default
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not JSON", title="Malformed request") from None
    online: bool | None = EXCHANGE_BODY.parse(document)["online"]
    return default if online is None else online


async def token_exchange(request: web.Request) -> web.Response:
    """Exchange an App Bridge session token for an expiring offline token, and store it;
    with `online`, also for the staff member's online token (docs/staff.md)."""
    try:
        session = verify_session_token(request)
    except SessionTokenError as e:
        return unauthorized(str(e))
    shop = session.shop
    shop_var.set(shop)
    online = await _wants_online(request)
    if online and staff_user_id(session.user_id) is None:
        raise Problem(400, "an online token needs a session token whose sub is a staff member's id")
    token = request.headers["Authorization"].partition(" ")[2].strip()
    oauth = request.app[keys.OAUTH]
    row = await Shop.get_or_none(domain=shop)
    if not online or row is None or not _has_offline_token(row):
        # The offline token first: an online token is for a shop that has the app.
        try:
            grant = await oauth.token_exchange(shop, token)
        except InvalidGrantError:
            return unauthorized("Shopify refused the session token for token exchange")
        except OAuthError as e:
            raise _token_endpoint_failed(e) from None
        await _store_and_follow_up(request, shop, grant, installing=False)
        row = await Shop.get(domain=shop)
    answer: dict[str, Any] = {"shop": shop, "scopes": [s for s in row.scopes.split(",") if s]}
    if online:
        try:
            grant = await oauth.token_exchange(shop, token, online=True)
        except InvalidGrantError:
            return unauthorized("Shopify refused the session token for an online token")
        except OAuthError as e:
            raise _token_endpoint_failed(e) from None
        staff = await request.app[keys.SHOP_TOKENS].store_online_grant(row, grant)
        log.info("online token stored", extra={"shop": shop, "user_id": staff.user_id})
        answer["online"] = {
            "user_id": staff.user_id,
            "scopes": [s for s in staff.associated_user_scope.split(",") if s],
            "expires_at": staff.expires_at.isoformat(),
        }
    return json_response(answer)


def _has_offline_token(row: Shop) -> bool:
    return row.installed and not row.needs_reauth and bool(row.access_token_enc)


async def _store_and_follow_up(
    request: web.Request, shop: str, grant: AccessTokenResponse, *, installing: bool
) -> str:
    config = request.app[keys.CONFIG]
    missing = missing_scopes(config.shopify.scopes, grant.scope)
    if missing:
        # Nothing stored: the app cannot work without them.
        raise Problem(
            400,
            f"the app needs these scopes, which were not granted: {', '.join(missing)}",
            title="Scopes denied",
            missing=missing,
        )
    await request.app[keys.SHOP_TOKENS].store_grant(shop, grant, installing=installing)
    # What follows an install runs in workers (webhook registration, first sync).
    await enqueue_or_503(SHOP_INSTALLED, shop)
    log.info(
        "shop authorized", extra={"shop": shop, "via": "oauth" if installing else "token_exchange"}
    )
    return grant.scope


def _check_timestamp(value: str | None, *, window_s: int) -> None:
    try:
        timestamp = int(value or "")
    except ValueError:
        raise Problem(
            400, "timestamp is missing or not a number", title="Invalid timestamp"
        ) from None
    if abs(time.time() - timestamp) > window_s:
        raise Problem(
            400, "the callback is too old (or from the future); start again", title="Stale request"
        )


def _admin_app_url(config: Config, shop: str, host: str | None) -> str:
    """The app inside the Shopify admin: from `host` (base64 admin host) when it is sane."""
    if host:
        try:
            padded = host + "=" * (-len(host) % 4)
            decoded = base64.urlsafe_b64decode(padded.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            decoded = ""
        store = shop.removesuffix(".myshopify.com")
        if decoded in {f"admin.shopify.com/store/{store}", f"{shop}/admin"}:
            return f"https://{decoded}/apps/{config.shopify.api_key}"
    return f"{config.shopify.shop_origin(shop)}/admin/apps/{config.shopify.api_key}"
