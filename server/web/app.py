"""The application factory: create_app(config) -> web.Application."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import aiohttp
import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet
from redis.asyncio import Redis

from server.admin.http import frame_ancestors
from server.config import Config
from server.db import close_db, init_db
from server.metrics import Metrics
from server.pixel.http import pixel_ctx
from server.services import build_services
from server.web import keys
from server.web.cors import setup_cors
from server.web.edge import handler_args
from server.web.limits import edge_limits_ctx, rate_limits
from server.web.middlewares import errors, metrics, request_context, request_shape
from server.web.routes import setup_routes
from server.web.session_auth import session_token_auth
from server.webhooks.http import webhook_committer_ctx

if TYPE_CHECKING:
    from dramatiq import Broker

log = logging.getLogger(__name__)

# aiohttp-session 2.12 stores its session under a string request key; harmless, not ours.
warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")

SESSION_MAX_AGE_S = 900  # an install round trip takes seconds; the nonce need not outlive it


def _dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()


async def tortoise_ctx(app: web.Application) -> AsyncIterator[None]:
    """The database pool."""
    await init_db(app[keys.CONFIG])
    yield
    await close_db()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """The Redis pool (caches, rate limits, dedup keys)."""
    client = Redis.from_url(app[keys.CONFIG].redis.url, health_check_interval=30)
    app[keys.REDIS] = client
    yield
    await client.aclose()


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    """The one shared ClientSession (TLS verification on; per-call timeouts set by callers)."""
    config = app[keys.CONFIG]
    session = aiohttp.ClientSession(
        json_serialize=_dumps,
        timeout=aiohttp.ClientTimeout(total=config.shopify.request_timeout_s * 6),
    )
    app[keys.HTTP] = session
    yield
    await session.close()


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    """Shopify clients and the token store, over the shared session and Redis pool."""
    services = build_services(app[keys.CONFIG], app[keys.HTTP], app[keys.REDIS])
    app[keys.SERVICES] = services
    app[keys.SHOPIFY] = services.shopify
    app[keys.OAUTH] = services.oauth
    app[keys.SHOP_TOKENS] = services.tokens
    yield


def _session_storage(config: Config) -> EncryptedCookieStorage:
    # The OAuth nonce lives here: encrypted, HttpOnly, Lax, Secure when served over https.
    return EncryptedCookieStorage(
        Fernet(config.security.session_secret.reveal().encode()),
        cookie_name="shopify_app_session",
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        secure=config.app.url.startswith("https://"),
        samesite="Lax",
    )


def _sessions_on_auth_routes(sessions: Middleware) -> Middleware:
    """The session cookie is only for the OAuth round trip: the hot paths (webhooks,
    pixel events, the API) skip its per-request work."""

    @web.middleware
    async def auth_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/auth/"):
            return await sessions(request, handler)
        return await handler(request)

    return auth_sessions


def _broker_ctx(broker: Broker) -> Callable[[web.Application], AsyncIterator[None]]:
    async def broker_ctx(app: web.Application) -> AsyncIterator[None]:
        """The Dramatiq broker this process sends with."""
        app[keys.BROKER] = broker
        yield
        await asyncio.to_thread(broker.close)

    return broker_ctx


def create_app(config: Config, *, broker: Broker | None = None) -> web.Application:
    """Build the web application; stores open in cleanup contexts, in this order."""
    if broker is None:
        from actors.broker import setup_broker

        broker = setup_broker(config)
    app = web.Application(
        middlewares=[
            request_context,
            metrics,
            _sessions_on_auth_routes(session_middleware(_session_storage(config))),
            errors,
            request_shape,
            session_token_auth,
            rate_limits,
        ],
        client_max_size=config.limits.max_body_bytes,
        handler_args=handler_args(config.limits),
    )
    app[keys.CONFIG] = config
    app[keys.METRICS] = Metrics()
    app.cleanup_ctx.extend(
        [
            tortoise_ctx,
            redis_ctx,
            edge_limits_ctx,
            http_ctx,
            services_ctx,
            _broker_ctx(broker),
            # After the stores they write to, so they flush before those close.
            webhook_committer_ctx,
            pixel_ctx,
        ]
    )
    setup_routes(app)
    setup_cors(app, config)
    # Every HTML answer (the app home, its error pages) says who may frame it.
    app.on_response_prepare.append(frame_ancestors)
    app.on_startup.append(_freeze_startup_objects)
    return app


async def _freeze_startup_objects(app: web.Application) -> None:
    # Everything built at start-up lives as long as the process: moving it out of the
    # collector's generations keeps full collections (and their latency spikes) small.
    gc.collect()
    gc.freeze()
