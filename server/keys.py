"""Every piece of app state, as typed AppKeys declared in one place."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from dramatiq import Broker
from redis.asyncio import Redis

from server.config import Config
from server.metrics import Metrics

CONFIG = web.AppKey("config", Config)
REDIS = web.AppKey("redis", Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BROKER = web.AppKey("broker", Broker)
METRICS = web.AppKey("metrics", Metrics)

# Per-request state.
REQUEST_ID = web.RequestKey("request_id", str)
