"""The billing flow's HTTP edge: the plans and state, subscribe, the return from Shopify's
approval page, cancel, and the 402 gate on /api/* when a plan is required."""

from __future__ import annotations

import logging

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from models import Shop
from server.billing import charges
from server.billing.plans import app_in_admin_url, managed_pricing_url
from server.billing.state import ChargeOwnerError, has_active_plan, reconcile
from server.billing.view import describe
from server.config import BillingConfig
from server.inputs import Body, Field, Parameters, Str
from server.problem import Problem
from server.security.hmac import normalize_shop
from server.shopify import (
    ShopCredentials,
    ShopifyError,
)
from server.shops.tokens import ShopTokenError
from server.web import keys
from server.web.responses import json_response
from server.web.session_auth import API_PREFIX, shopify_problem, token_problem

log = logging.getLogger(__name__)

BILLING_API = "/api/billing"
PAYMENT_REQUIRED_TYPE = "https://shopify.dev/docs/apps/launch/billing#payment-required"
MAX_CHARGE_ID_CHARS = 128


def billing_problem(error: ShopifyError) -> Problem:
    """Shopify's answer to a billing call as our problem (see shopify_problem)."""
    return shopify_problem(
        error,
        what="the charge",
        unavailable="Shopify is unavailable; nothing was charged. Retry later",
    )


async def _credentials(request: web.Request, shop: str) -> ShopCredentials:
    try:
        return await request.app[keys.SERVICES].credentials(shop)
    except ShopTokenError as e:
        raise token_problem(e, app_url=request.app[keys.CONFIG].app.url) from e


async def get_billing(request: web.Request) -> web.Response:
    """GET /api/billing: mode, plans, the active plan (trial, usage against the cap)."""
    shop = request[keys.SHOP]
    config = request.app[keys.CONFIG]
    if config.billing.mode == "managed":
        # Managed pricing: Shopify holds the plan; read it now (the merchant may just have
        # chosen one on Shopify's page). Stored state answers when Shopify does not.
        try:
            creds = await _credentials(request, shop.domain)
            await reconcile(
                shop, shopify=request.app[keys.SHOPIFY], creds=creds, billing=config.billing
            )
        except (ShopifyError, Problem) as e:
            log.warning("billing state not re-read: %s", type(e).__name__)
    return json_response(await describe(shop, config.billing))


# POST /api/billing/subscribe's body; under managed pricing the plan may be left out.
SUBSCRIBE_BODY = Body(
    (Field("plan", Str(), "plan must be a plan's handle (a string)", required=True),),
    expected='expected {"plan": "<handle>"}',
)


async def _plan_from_body(request: web.Request, *, required: bool) -> str:
    if not request.can_read_body:
        if required:
            raise Problem(400, SUBSCRIBE_BODY.expected, title=SUBSCRIBE_BODY.title)
        return ""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", title="Invalid body") from None
    plan: str = SUBSCRIBE_BODY.parse(body, partial=not required)["plan"] or ""
    return plan


def _shop_domain(value: str) -> str:
    shop = normalize_shop(value)
    if shop is None:
        raise ValueError(value)
    return shop


def _charge_id(value: str) -> str:
    if not charges.charge_gids(value[:MAX_CHARGE_ID_CHARS]):
        raise ValueError(value)
    return value


# GET /billing/return's query (Shopify's redirect; other parameters are let through).
RETURN_QUERY = Parameters(
    (
        Field(
            "shop", Str(), "shop must be a *.myshopify.com domain", required=True, then=_shop_domain
        ),
        Field(
            "charge_id",
            Str(),
            "charge_id must be Shopify's charge id",
            required=True,
            then=_charge_id,
        ),
    ),
    closed=False,
)


async def subscribe(request: web.Request) -> web.Response:
    """POST /api/billing/subscribe {"plan": handle}: Shopify's approval page URL."""
    shop = request[keys.SHOP]
    config = request.app[keys.CONFIG]
    handle = await _plan_from_body(request, required=config.billing.mode == "api")
    if config.billing.mode == "managed":
        # Managed pricing: no charge is made here; Shopify's page lets the merchant choose.
        url = managed_pricing_url(shop.domain, config.billing.app_handle)
        return json_response({"confirmation_url": url})
    if config.billing.plan(handle) is None:
        raise Problem(400, f"no plan has the handle {handle[:64]!r}", title="Unknown plan")
    creds = await _credentials(request, shop.domain)
    try:
        url = await charges.subscribe(
            shop, handle, config=config, shopify=request.app[keys.SHOPIFY], creds=creds
        )
    except ShopifyError as e:
        log.warning("billing charge not created: %s", type(e).__name__)
        raise billing_problem(e) from e
    return json_response({"confirmation_url": url})


async def cancel(request: web.Request) -> web.Response:
    """POST /api/billing/cancel: cancel the active subscription; the new billing state."""
    shop = request[keys.SHOP]
    config = request.app[keys.CONFIG]
    if config.billing.mode == "managed":
        raise Problem(409, "under managed pricing the merchant changes plans on Shopify's page")
    creds = await _credentials(request, shop.domain)
    try:
        await charges.cancel(shop, config=config, shopify=request.app[keys.SHOPIFY], creds=creds)
    except charges.NoSubscriptionError as e:
        raise Problem(409, "the shop has no active subscription", title="Nothing to cancel") from e
    except ShopifyError as e:
        log.warning("billing cancel failed: %s", type(e).__name__)
        raise billing_problem(e) from e
    return json_response(await describe(shop, config.billing))


async def billing_return(request: web.Request) -> web.StreamResponse:
    """GET /billing/return?shop&charge_id: Shopify's redirect after the approval page.

    The charge is read back from Shopify with the shop's token (never trusted from the
    query) and stored only if active; then the merchant goes back into the app.
    """
    config = request.app[keys.CONFIG]
    given = RETURN_QUERY.parse(request.query)
    shop_domain, charge_id = given["shop"], given["charge_id"]
    shop = await Shop.get_or_none(domain=shop_domain)
    if shop is None or not shop.installed:
        raise Problem(400, f"{shop_domain} has not installed the app", title="Unknown shop")
    creds = await _credentials(request, shop.domain)
    try:
        await charges.confirm_return(
            shop, charge_id, config=config, shopify=request.app[keys.SHOPIFY], creds=creds
        )
    except charges.UnknownChargeError as e:
        raise Problem(
            400, "Shopify knows no such charge on this shop", title="Unknown charge"
        ) from e
    except ChargeOwnerError as e:
        raise Problem(400, "the charge belongs to another shop", title="Unknown charge") from e
    except ShopifyError as e:
        log.warning("billing return not confirmed: %s", type(e).__name__)
        raise billing_problem(e) from e
    raise web.HTTPFound(app_in_admin_url(config, shop.domain))


def billing_gate(billing: BillingConfig) -> Middleware:
    """402 on /api/* (but /api/billing*) for a shop without an active plan."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        shop = request.get(keys.SHOP)
        if (
            shop is None
            or not request.path.startswith(API_PREFIX)
            or request.path.startswith(BILLING_API)
            or await has_active_plan(shop.id, test_ok=billing.test)
        ):
            return await handler(request)
        raise Problem(
            402,
            "This shop has no active plan; choose one to use the app",
            type_=PAYMENT_REQUIRED_TYPE,
            billing_url=BILLING_API,
        )

    return gate


def routes() -> list[web.RouteDef]:
    """The billing routes."""
    return [
        web.get(BILLING_API, get_billing, name="billing"),
        web.post(f"{BILLING_API}/subscribe", subscribe, name="billing_subscribe"),
        web.post(f"{BILLING_API}/cancel", cancel, name="billing_cancel"),
        web.get("/billing/return", billing_return, name="billing_return"),
    ]
