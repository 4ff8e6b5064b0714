"""`GET|POST /proxy/{path}`: storefront requests through Shopify's app proxy."""

from __future__ import annotations

import logging
import re
import time

from aiohttp import web

from server.logs import shop_var
from server.problem import Problem
from server.proxy.handlers import PROXY_ROUTES, ProxyAnswer, StorefrontRequest
from server.security.hmac import APP_PROXY, normalize_shop, verify_query_signature
from server.web import keys
from server.web.limits import limit_verified_shop
from server.web.responses import json_response

log = logging.getLogger(__name__)

# Shopify adds these; the rest of the query is the storefront's own.
_SHOPIFY_PARAMS = frozenset(APP_PROXY.single)
_CUSTOMER_ID_RE = re.compile(r"\d{0,20}")


def _unsigned(detail: str) -> Problem:
    return Problem(401, detail, title="Invalid signature")


async def proxy(request: web.Request) -> web.StreamResponse:
    """Verify Shopify's app proxy signature, then run the registered handler for the path."""
    config = request.app[keys.CONFIG]
    pairs = list(request.query.items())
    if not verify_query_signature(pairs, config.shopify.api_secrets(), APP_PROXY):
        raise _unsigned("the app proxy signature is missing or does not verify")
    query = request.query
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        raise _unsigned("the app proxy request has no timestamp") from None
    if abs(time.time() - timestamp) > config.security.proxy_timestamp_window_s:
        raise _unsigned("the app proxy request is too old (or from the future)")
    shop = normalize_shop(query.get("shop"))
    if shop is None:
        raise Problem(400, "shop must be a *.myshopify.com domain", title="Invalid shop")
    customer = query.get("logged_in_customer_id", "")
    if not _CUSTOMER_ID_RE.fullmatch(customer):
        raise Problem(400, "logged_in_customer_id must be a customer id or empty")
    shop_var.set(shop)
    await limit_verified_shop(request, "proxy", shop)
    path = request.match_info["path"]
    handler = PROXY_ROUTES.get((request.method, path))
    if handler is None:
        raise Problem(404, f"no app proxy route {request.method} /proxy/{path}")
    answer = await handler(
        StorefrontRequest(
            shop=shop,
            logged_in_customer_id=customer,
            path_prefix=query.get("path_prefix", ""),
            path=path,
            method=request.method,
            params=tuple((k, v) for k, v in pairs if k not in _SHOPIFY_PARAMS),
            body=await request.read(),
        )
    )
    if isinstance(answer, ProxyAnswer):
        body = answer.body.encode() if isinstance(answer.body, str) else answer.body
        return web.Response(body=body, status=answer.status, content_type=answer.content_type)
    return json_response(answer)
