"""The two outer middlewares: `observe` (request id, log context, metrics) and `guard`
(request shape, and the one error renderer: problem+json for every error)."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from server.logs import masker, request_id_var, shop_var
from server.problem import Problem
from server.store_errors import store_down, store_down_problem
from server.web import keys
from server.web.edge import bad_request_problem
from server.web.responses import problem_response, render

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _route_name(request: web.Request) -> str:
    # The route's pattern, never the raw path: raw paths would explode label cardinality.
    info = request.match_info
    if isinstance(info, web.UrlMappingMatchInfo) and not isinstance(info.http_exception, Exception):
        resource = info.route.resource
        if resource is not None:
            return resource.canonical
    return "unmatched"


# Request ids this process makes: a random prefix per process and a counter (unique across
# processes and restarts without a uuid4 per request).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


def request_id_for(request: web.BaseRequest) -> str:
    """The request's id: the client's X-Request-Id when it is plainly an id (never one that
    looks like a token: the access log writes it without the masking pass), else a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    if incoming and _REQUEST_ID_RE.match(incoming) and masker.mask(incoming) == incoming:
        return incoming
    return f"{_ID_PREFIX}{next(_id_counter):x}"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's id (a sane X-Request-Id, or a new one) in the log context and the
    response; the request counted by route and status, and timed."""
    started = time.perf_counter()
    request_id = request_id_for(request)
    request[keys.REQUEST_ID] = request_id
    token = request_id_var.set(request_id)
    shop_token = shop_var.set(None)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        request_id_var.reset(token)
        shop_var.reset(shop_token)
        counter, histogram = request.app[keys.METRICS].children(
            _route_name(request), request.method, status
        )
        counter.inc()
        histogram.observe(time.perf_counter() - started)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what no handler can read (see refused_shape), then render every error as
    application/problem+json; never a traceback."""
    try:
        problem = refused_shape(request)
        if problem is not None:
            raise problem
        try:
            response = await handler(request)
        except Problem as raised:
            response = render(raised)
        close_if_unread(request, response)
        return response
    except Exception as exc:
        return error_response(request, exc)


def error_response(request: web.BaseRequest, exc: Exception) -> web.StreamResponse:
    """The problem+json answer to an error a handler raised (the one error renderer).

    Redirects and other HTTP exceptions under 400 are raised again: they are answers."""
    if isinstance(exc, Problem):
        return render(exc)
    if isinstance(exc, HttpProcessingError | RequestPayloadError):
        # The body did not decode (bad gzip), arrived too slowly, or broke framing mid-way.
        cause = exc if isinstance(exc, HttpProcessingError) else exc.__cause__
        status, detail = bad_request_problem(cause)
        log.info(
            "bad request body in %s %s: %s", request.method, request.path, type(cause).__name__
        )
        response = problem_response(status, detail)
        # The rest of the body is unreadable too: close rather than drain it.
        response.force_close()
        return response
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc  # redirects and the like pass through
        headers = {
            k: v
            for k, v in exc.headers.items()
            if k.lower() not in {"content-type", "content-length"}
        }
        detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        if exc.status == 413:
            detail = "Request body is larger than this endpoint accepts"
        elif exc.status == 405:
            detail = f"{request.method} is not allowed here"
        elif exc.status == 404:
            detail = f"No route for {request.path}"
        return problem_response(exc.status, detail, headers=headers)
    return _unexpected(request, exc)


def _unexpected(request: web.BaseRequest, e: Exception) -> web.Response:
    if isinstance(e, ConnectionError) and request.content.exception() is not None:
        # The client went away (or was cut off) mid-body: its doing, not a store's.
        log.info("client connection lost in %s %s", request.method, request.path)
        return problem_response(400, "the connection closed before the body arrived")
    if store_down(e):
        # A store that is down is not a bug: 503 so clients (and Shopify) retry.
        log.error("store unavailable in %s %s: %s", request.method, request.path, type(e).__name__)
        return render(store_down_problem())
    # The one place a bare catch is right: log it whole, answer without internals.
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=e)
    return problem_response(
        500,
        "An unexpected error occurred; it has been logged.",
        request_id=request.get(keys.REQUEST_ID) or request_id_var.get(),
    )


# What aiohttp decodes (brotli and zstd are not installed); identity means none.
SUPPORTED_CONTENT_CODINGS = frozenset({"", "identity", "gzip", "deflate"})


def _undecodable_header(request: web.BaseRequest) -> str | None:
    # aiohttp maps bytes that are not UTF-8 to lone surrogates, which no store, JSON encoder
    # or database driver accepts: the header's name, so the client hears which one.
    for name, value in request.headers.items():
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                return name if name.isascii() else "a header"
    return None


def refused_shape(request: web.BaseRequest) -> Problem | None:
    """400 for header values that are not UTF-8; 415 for a body in a coding this server
    does not decode (RFC 9110 15.5.16); None for a request a handler can read."""
    bad = _undecodable_header(request)
    if bad is not None:
        return Problem(400, f"the {bad} header is not valid UTF-8 text", title="Invalid header")
    coding = request.headers.get("Content-Encoding")
    if coding and request.body_exists and coding.strip().lower() not in SUPPORTED_CONTENT_CODINGS:
        return Problem(
            415,
            "Content-Encoding must be gzip, deflate or identity",
            title="Unsupported Content-Encoding",
            headers={"Accept-Encoding": "gzip, deflate"},
        )
    return None


def close_if_unread(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """An unread compressed body may not even decode: close instead of draining it, and
    say so, so the client does not send its next request on this connection."""
    if (
        request.headers.get("Content-Encoding", "").strip()
        and request.body_exists
        and not request.content.is_eof()
    ):
        response.force_close()
