"""Intake lanes: `POST /webhooks` and `POST /pixel/events` served beside the app's chain.

These two routes take nearly all of the traffic and need none of what the middleware chain
and the router do for the rest (sessions, session tokens, route matching, response signals,
aiohttp-cors' per-response lookup). The server built by `server/web/edge.py` hands a POST to
a lane's path straight to `Lanes.serve`, which does what the chain would have done for it,
once: the request id (response header and log context), the request's shape (`refused_shape`),
one error renderer (`error_response`), the CORS headers the policy gives the route, and the
request counted and timed. A server built otherwise (a plain aiohttp runner) still serves
them, through the route table and the whole chain, with the same handler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from server.logs import request_id_var, shop_var, write_access
from server.web import keys
from server.web.middlewares import (
    REQUEST_ID_HEADER,
    close_if_unread,
    error_response,
    refused_shape,
    request_id_for,
)

ACCESS_LOGGER = "server.access"
# On a response whose access line its lane wrote.
LOGGED = web.ResponseKey("lane_logged", bool)
# A lane's handler: the request and the app (a request the server dispatches has no match
# info, so `request.app` is not there).
LaneHandler = Callable[[web.BaseRequest, web.Application], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Lane:
    """One intake route: its handler, its route name (metrics) and its CORS exposure."""

    path: str
    handler: LaneHandler
    route: str
    # Cross-origin answers for any origin (the pixel): the policy's headers, set here
    # because aiohttp-cors only sees requests that go through the router.
    cors_expose: str | None = None


class Lanes:
    """The app's lanes, by path; `dispatcher` wraps the app's own request handler."""

    def __init__(self, app: web.Application, lanes: tuple[Lane, ...]) -> None:
        self.app = app
        self.by_path = {lane.path: lane for lane in lanes}
        # The lanes write their own access lines (one formatted string each: every field is
        # clean by construction); the server's access logger skips the responses they mark.
        self.access = (
            logging.getLogger(ACCESS_LOGGER) if app[keys.CONFIG].logging.access_log else None
        )

    def dispatcher(self, fallback: Handler) -> Handler:
        """The server's request handler: lanes first, everything else to the app."""
        by_path = self.by_path
        serve = self.serve

        async def dispatch(request: web.Request) -> web.StreamResponse:
            # `Expect: 100-continue` is answered by the app's own path (the client waits for
            # it before sending the body): rare, so those go the long way.
            if request.method == "POST" and hdrs.EXPECT not in request.headers:
                lane = by_path.get(request.path)
                if lane is not None:
                    return await serve(lane, request)
            return await fallback(request)

        return dispatch

    async def serve(self, lane: Lane, request: web.BaseRequest) -> web.StreamResponse:
        """Run the lane's handler as the chain would: id, shape, errors, CORS, metrics."""
        started = time.perf_counter()
        rid = request_id_for(request)
        token = request_id_var.set(rid)
        shop_token = shop_var.set(None)
        app = self.app
        try:
            problem = refused_shape(request)
            if problem is not None:
                raise problem
            response = await lane.handler(request, app)
        except Exception as exc:
            response = error_response(request, exc)
        finally:
            request_id_var.reset(token)
            shop_var.reset(shop_token)
        close_if_unread(request, response)
        headers = response.headers
        headers[REQUEST_ID_HEADER] = rid
        if lane.cors_expose is not None:
            origin = request.headers.get("Origin")
            if origin is not None:
                headers["Access-Control-Allow-Origin"] = origin
                headers["Access-Control-Expose-Headers"] = lane.cors_expose
                headers["Vary"] = "Origin"
        status = response.status
        elapsed = time.perf_counter() - started
        app[keys.METRICS].tally(lane.route, "POST", status, elapsed)
        if self.access is not None:
            body = getattr(response, "body", None)
            write_access(
                self.access,
                method="POST",
                path=lane.path,
                status=status,
                request_id=rid,
                duration_s=elapsed,
                remote=request.remote,
                size=len(body) if isinstance(body, bytes) else 0,
            )
            response[LOGGED] = True
        return response


def route_handler(handler: LaneHandler) -> Handler:
    """A lane's handler in the route table, for a server that does not dispatch lanes: the
    middleware chain around it does what `Lanes.serve` does."""

    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request, request.app)

    return route


LANES = web.AppKey("lanes", Lanes)
