"""Every piece of app state, as typed AppKeys declared in one place."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from dramatiq import Broker
from redis.asyncio import Redis

from models import Shop
from server.config import Config
from server.metrics import Metrics
from server.pixel.ingest import PixelIngest
from server.services import ShopifyServices
from server.shopify.client import ShopifyClient
from server.shopify.oauth import OAuthClient
from server.shops.tokens import ShopTokens

CONFIG = web.AppKey("config", Config)
REDIS = web.AppKey("redis", Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BROKER = web.AppKey("broker", Broker)
METRICS = web.AppKey("metrics", Metrics)
SERVICES = web.AppKey("services", ShopifyServices)
SHOPIFY = web.AppKey("shopify", ShopifyClient)
OAUTH = web.AppKey("oauth", OAuthClient)
SHOP_TOKENS = web.AppKey("shop_tokens", ShopTokens)
PIXEL = web.AppKey("pixel", PixelIngest)
# Wraps the app's request handler for the server the edge builds (server/web/lanes.py).
DISPATCH: web.AppKey[Callable[[Handler], Handler]] = web.AppKey("dispatch")

# Per-request state.
REQUEST_ID = web.RequestKey("request_id", str)
SHOP = web.RequestKey("shop", Shop)  # set by the session-token middleware on /api/*
