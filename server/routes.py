"""The route table: every HTTP route of the app, in one place."""

from __future__ import annotations

from aiohttp import web

from server import openapi, ops


def setup_routes(app: web.Application) -> None:
    """Register every route on the app."""
    app.add_routes(
        [
            web.get("/healthz", ops.healthz, name="healthz", allow_head=True),
            web.get("/readyz", ops.readyz, name="readyz", allow_head=True),
            web.get("/metrics", ops.metrics, name="metrics"),
            web.get("/openapi.json", openapi.openapi_json, name="openapi"),
        ]
    )
