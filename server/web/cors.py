"""CORS as a policy (aiohttp-cors), set once on the route table.

- /api/*: the app's own extensions call it from Shopify's extension CDN with a session token
  (`Authorization`), so: that CDN, the app's own origin and CORS_API_ORIGINS; no credentials
  (the session token is the credential, never a cookie).
- /ext/*: the app's checkout, customer-account and POS UI extensions, the same policy.
- /pixel/events: every origin, `null` included (custom pixels run in a sandboxed iframe);
  the ingest key in the body identifies the shop, never the Origin.
- every other route: no CORS headers at all, so a browser refuses cross-origin reads.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp_cors
from aiohttp import web

from server.config import Config

EXTENSIONS_ORIGIN = "https://extensions.shopifycdn.com"
PREFLIGHT_MAX_AGE_S = 86400
API_EXPOSED = (
    "Retry-After",
    "X-Request-Id",
    "X-Shopify-Retry-Invalid-Session-Request",
    "X-Shopify-API-Request-Failure-Reauthorize",
    "X-Shopify-API-Request-Failure-Reauthorize-Url",
)
# The pixel reads Retry-After on 429/503; cross-origin it must be exposed.
PIXEL_EXPOSED = ("Retry-After", "X-Request-Id")


def api_origins(config: Config) -> tuple[str, ...]:
    """The origins /api/* answers: Shopify's extension CDN, the app's own, the configured."""
    parts = urlsplit(config.app.url)
    own = f"{parts.scheme}://{parts.netloc}"
    return tuple(dict.fromkeys((EXTENSIONS_ORIGIN, own, *config.cors.api_origins)))


def setup_cors(app: web.Application, config: Config) -> None:
    """Attach the policy to every route of the app's router."""
    api_options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        expose_headers=API_EXPOSED,
        allow_headers=("Authorization", "Content-Type", "X-Request-Id"),
        allow_methods=("GET", "POST"),
        max_age=PREFLIGHT_MAX_AGE_S,
    )
    api_policy = dict.fromkeys(api_origins(config), api_options)
    pixel_policy = {
        "*": aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
            allow_credentials=False,
            expose_headers=PIXEL_EXPOSED,
            allow_headers="*",
            allow_methods=("POST",),
            max_age=PREFLIGHT_MAX_AGE_S,
        )
    }
    cors = aiohttp_cors.setup(app)
    for resource in list(app.router.resources()):
        path = resource.canonical
        if path.startswith(("/api/", "/ext/")):
            cors.add(resource, api_policy)
        elif path == "/pixel/events":
            cors.add(resource, pixel_policy)
    app.on_response_prepare.append(_vary_origin)


async def _vary_origin(request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp-cors echoes the request's Origin: a shared cache must key on it.
    if "Access-Control-Allow-Origin" in response.headers:
        vary = response.headers.get("Vary", "")
        if "origin" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
