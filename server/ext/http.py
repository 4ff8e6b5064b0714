"""`GET|POST /ext/{path}`: checkout, customer-account and POS UI extensions' requests."""

from __future__ import annotations

import logging

from aiohttp import web

from server.ext.handlers import EXT_ROUTES, ExtensionRequest, customer_of
from server.logs import shop_var
from server.problem import Problem
from server.security.session_token import SessionTokenError, bearer_token, decode_session_token
from server.web import keys
from server.web.limits import limit_verified_shop
from server.web.responses import json_response
from server.web.session_auth import unauthorized

log = logging.getLogger(__name__)


async def extension(request: web.Request) -> web.StreamResponse:
    """Verify the extension's session token, then run the registered handler for the path."""
    config = request.app[keys.CONFIG]
    try:
        token = decode_session_token(
            bearer_token(request.headers.get("Authorization")),
            api_key=config.shopify.api_key,
            secrets=config.shopify.api_secrets(),
            extension=True,
        )
    except SessionTokenError as e:
        log.info("extension session token rejected: %s", e)
        return unauthorized(str(e))
    shop_var.set(token.shop)
    await limit_verified_shop(request, "ext", token.shop)
    path = request.match_info["path"]
    handler = EXT_ROUTES.get((request.method, path))
    if handler is None:
        raise Problem(404, f"no extension route {request.method} /ext/{path}")
    answer = await handler(
        ExtensionRequest(
            shop=token.shop,
            customer=customer_of(token.user_id),
            path=path,
            method=request.method,
            params=tuple(request.query.items()),
            body=await request.read(),
            claims=token.claims,
        )
    )
    return json_response(answer)
