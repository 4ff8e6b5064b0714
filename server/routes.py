"""The route table: every HTTP route of the app, in one place."""

from __future__ import annotations

from aiohttp import web

from server import compliance, openapi, ops, webhooks
from server.admin import http as admin
from server.auth import routes as auth
from server.pixel import analytics as pixel_analytics
from server.pixel import extension as pixel_extension
from server.pixel import handlers as pixel
from server.sync import http as sync_api


def setup_routes(app: web.Application) -> None:
    """Register every route on the app."""
    app.add_routes(
        [
            web.get("/", admin.home, name="home"),
            web.get("/admin/static/{name}", admin.static, name="admin_static"),
            web.get("/healthz", ops.healthz, name="healthz", allow_head=True),
            web.get("/readyz", ops.readyz, name="readyz", allow_head=True),
            web.get("/metrics", ops.metrics, name="metrics"),
            web.get("/openapi.json", openapi.openapi_json, name="openapi"),
            web.get("/auth/install", auth.install, name="auth_install"),
            web.get("/auth/callback", auth.callback, name="auth_callback"),
            web.post("/auth/token-exchange", auth.token_exchange, name="auth_token_exchange"),
            web.post("/pixel/events", pixel.post_events, name="pixel_events"),
            web.get("/api/extension", pixel_extension.get_extension, name="extension"),
            web.post(
                "/api/extension/activate",
                pixel_extension.activate_extension,
                name="extension_activate",
            ),
            web.post(
                "/api/extension/deactivate",
                pixel_extension.deactivate_extension,
                name="extension_deactivate",
            ),
            web.get(
                "/api/analytics/summary", pixel_analytics.get_summary, name="analytics_summary"
            ),
            web.post("/webhooks", webhooks.receive_webhook, name="webhooks"),
            web.get(
                "/api/compliance/requests", compliance.list_requests, name="compliance_requests"
            ),
            web.get(
                "/api/compliance/requests/{request_id}/export",
                compliance.download_export,
                name="compliance_export",
            ),
            *sync_api.routes(),
        ]
    )
