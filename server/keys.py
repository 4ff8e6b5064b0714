"""Every piece of app state, as typed AppKeys declared in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from server.config import Config

if TYPE_CHECKING:
    from dramatiq import Broker

    from server.metrics import Metrics

CONFIG = web.AppKey("config", Config)
REDIS = web.AppKey("redis", Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BROKER = web.AppKey("broker", "Broker")
METRICS = web.AppKey("metrics", "Metrics")
