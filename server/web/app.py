"""The application factory: create_app(config) -> web.Application."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

import server.flows  # noqa: F401  (every flow registers its part before a request comes)
from server import fallbacks
from server.admin.http import frame_ancestors, setup_templates
from server.billing.http import billing_gate
from server.config import Config
from server.flow.http import flow_committer_ctx
from server.metrics import Metrics
from server.pixel.http import pixel_ctx
from server.services import close_pools, open_pools
from server.web import keys
from server.web.cors import setup_cors
from server.web.edge import handler_args
from server.web.lanes import Lanes
from server.web.limits import edge_limits_ctx, rate_limits
from server.web.middlewares import guard, observe
from server.web.routes import LANES, setup_routes
from server.web.session_auth import session_token_auth
from server.webhooks.http import webhook_committer_ctx

if TYPE_CHECKING:
    from dramatiq import Broker

log = logging.getLogger(__name__)

# aiohttp-session 2.12 stores its session under a string request key; harmless, not ours.
warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")

SESSION_MAX_AGE_S = 900  # an install round trip takes seconds; the nonce need not outlive it


async def pools_ctx(app: web.Application) -> AsyncIterator[None]:
    """The database pool, Redis, the shared HTTP session and the Shopify services."""
    pools = await open_pools(app[keys.CONFIG], role="web")
    app[keys.REDIS] = pools.redis
    app[keys.HTTP] = pools.http
    app[keys.SERVICES] = pools.services
    app[keys.SHOPIFY] = pools.services.shopify
    app[keys.OAUTH] = pools.services.oauth
    app[keys.SHOP_TOKENS] = pools.services.tokens
    yield
    await close_pools(pools)


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
    middlewares: list[Middleware] = [
        observe,
        _sessions_on_auth_routes(session_middleware(_session_storage(config))),
        guard,
        session_token_auth,
        rate_limits,
    ]
    if config.billing.required:
        middlewares.append(billing_gate(config.billing))
    app = web.Application(
        middlewares=middlewares,
        client_max_size=config.limits.max_body_bytes,
        handler_args=handler_args(config.limits),
    )
    app[keys.CONFIG] = config
    app[keys.METRICS] = Metrics()
    fallbacks.bind(app[keys.METRICS].redis_fallbacks)
    app.cleanup_ctx.extend(
        [
            pools_ctx,
            edge_limits_ctx,
            _broker_ctx(broker),
            # After the stores they write to, so they flush before those close.
            webhook_committer_ctx,
            flow_committer_ctx,
            pixel_ctx,
        ]
    )
    setup_routes(app)
    setup_templates(app)
    app[keys.DISPATCH] = Lanes(app, LANES).dispatcher
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
