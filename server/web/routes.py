"""The route table: every HTTP route of the app, in one place."""

from __future__ import annotations

from aiohttp import web

from server.admin import http as admin
from server.billing import http as billing
from server.ext import http as ext
from server.flow import http as flow
from server.pixel import http as pixel
from server.privacy import http as privacy
from server.proxy import http as proxy
from server.shops import http as shops
from server.sync import http as sync_api
from server.web import ops
from server.web.cors import PIXEL_EXPOSED
from server.web.lanes import Lane, route_handler
from server.webhooks import http as webhooks

# The intake lanes: served by the edge's server without the middleware chain
# (server/web/lanes.py); in the route table too, for servers that do not dispatch them.
LANES = (
    Lane("/webhooks", webhooks.receive_webhook, route="/webhooks"),
    Lane(
        "/pixel/events",
        pixel.post_events,
        route="/pixel/events",
        cors_expose=",".join(PIXEL_EXPOSED),
    ),
)


def setup_routes(app: web.Application) -> None:
    """Register every route on the app."""
    app.add_routes(
        [
            web.get("/", admin.home, name="home"),
            web.get("/admin/static/{name}", admin.static, name="admin_static"),
            web.get("/healthz", ops.healthz, name="healthz", allow_head=True),
            web.get("/readyz", ops.readyz, name="readyz", allow_head=True),
            web.get("/metrics", ops.metrics, name="metrics"),
            web.get("/openapi.json", ops.openapi_json, name="openapi"),
            web.get("/auth/install", shops.install, name="auth_install"),
            web.get("/auth/callback", shops.callback, name="auth_callback"),
            web.post("/auth/token-exchange", shops.token_exchange, name="auth_token_exchange"),
            web.post("/pixel/events", route_handler(pixel.post_events), name="pixel_events"),
            web.get("/api/extension", pixel.get_extension, name="extension"),
            web.post(
                "/api/extension/activate",
                pixel.activate_extension,
                name="extension_activate",
            ),
            web.post(
                "/api/extension/deactivate",
                pixel.deactivate_extension,
                name="extension_deactivate",
            ),
            web.get("/api/analytics/summary", pixel.get_summary, name="analytics_summary"),
            web.post("/api/graphql", admin.graphql_proxy, name="graphql_proxy"),
            web.post("/webhooks", route_handler(webhooks.receive_webhook), name="webhooks"),
            web.get("/api/compliance/requests", privacy.list_requests, name="compliance_requests"),
            web.get(
                "/api/compliance/requests/{request_id}/export",
                privacy.download_export,
                name="compliance_export",
            ),
            web.get("/proxy/{path:.+}", proxy.proxy, name="proxy_get", allow_head=False),
            web.post("/proxy/{path:.+}", proxy.proxy, name="proxy_post"),
            web.get("/ext/{path:.+}", ext.extension, name="ext_get", allow_head=False),
            web.post("/ext/{path:.+}", ext.extension, name="ext_post"),
            web.post("/flow/actions/{handle}", flow.run_action, name="flow_action"),
            *sync_api.routes(),
            *billing.routes(),
        ]
    )
