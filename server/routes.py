"""The route table: every HTTP route of the app, in one place."""

from __future__ import annotations

from aiohttp import web

from server import openapi, ops
from server.auth import routes as auth
from server.sync import api as sync_api


def setup_routes(app: web.Application) -> None:
    """Register every route on the app."""
    app.add_routes(
        [
            web.get("/healthz", ops.healthz, name="healthz", allow_head=True),
            web.get("/readyz", ops.readyz, name="readyz", allow_head=True),
            web.get("/metrics", ops.metrics, name="metrics"),
            web.get("/openapi.json", openapi.openapi_json, name="openapi"),
            web.get("/auth/install", auth.install, name="auth_install"),
            web.get("/auth/callback", auth.callback, name="auth_callback"),
            web.post("/auth/token-exchange", auth.token_exchange, name="auth_token_exchange"),
            *sync_api.routes(),
        ]
    )
