"""The HTTP connection layer under the app: read deadlines, size limits, problem+json for the
errors aiohttp answers itself (malformed requests never reach a middleware).

aiohttp bounds header sizes (`max_line_size`, `max_field_size`, `max_headers`) and idle
keep-alive connections, but not how long a client may take to send its headers or its body:
a client that sends half a request and stops would hold its connection (and a slot of the
load balancer's) for as long as the keep-alive timeout. `EdgeRequestHandler` adds both
deadlines; `make_runner` builds the runner the server (and the test suite) serves with.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    ContentEncodingError,
    HttpProcessingError,
    LineTooLong,
)

# _ErrInfo: how the protocol queues a parse error as a message (no public name).
from aiohttp.web_protocol import RequestHandler, RequestPayloadError, _ErrInfo
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from server.config import LimitsConfig
from server.web.keys import DISPATCH
from server.web.responses import problem_response

log = logging.getLogger(__name__)


class BodyReadTimeout(HttpProcessingError):
    """The client did not send its whole body within the body read deadline."""

    code = 408
    message = "the request body was not received in time"


def bad_request_problem(exc: BaseException | None) -> tuple[int, str]:
    """Status and detail for an error of aiohttp's HTTP parser (never echoing the input)."""
    status, detail = 400, "the request is not well-formed HTTP"
    text = str(getattr(exc, "message", "") or "")
    if isinstance(exc, ContentEncodingError):
        # A coding aiohttp cannot decode here (br, zstd) is unsupported; a gzip/deflate body
        # that does not decode is malformed.
        if "brotli" in text or "zstandard" in text:
            status, detail = 415, "Content-Encoding must be gzip, deflate or identity"
        else:
            detail = "the body does not decode as its Content-Encoding says"
    elif isinstance(exc, BodyReadTimeout):
        status, detail = 408, exc.message
    elif isinstance(exc, LineTooLong):
        status = 431
        detail = "a header line (or the request line) is longer than this server accepts"
    elif isinstance(exc, BadHttpMessage) and "Too many headers" in text:
        status, detail = 431, "the request has more headers than this server accepts"
    return status, detail


class EdgeRequestHandler(RequestHandler):
    """aiohttp's protocol with header and body read deadlines and problem+json errors."""

    def __init__(
        self, manager: Server, *, header_timeout_s: float, body_timeout_s: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._body_timeout_s = body_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body: Any = None  # the payload of the request whose body is being received

    # A connection that never sends a byte is the keep-alive timeout's to close; one that
    # starts a request gets `header_timeout_s` to finish its head.
    def _awaiting_head(self) -> bool:
        return not self._messages and self._current_request is None

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        started_head = self._awaiting_head()
        super().data_received(data)
        if self._request_count != before:
            self._cancel_header_deadline()
            for message, payload in list(self._messages)[-(self._request_count - before) :]:
                if isinstance(message, _ErrInfo):
                    self._fail_open_body(message.exc)
                elif not payload.is_eof():
                    # Every message just parsed gets a deadline for its body.
                    self._body = payload
                    self._loop.call_later(self._body_timeout_s, self._body_deadline, payload)
        elif data and started_head and self._header_deadline is None:
            self._header_deadline = self._loop.call_later(
                self._header_timeout_s, self._header_deadline_passed
            )

    def _fail_open_body(self, exc: BaseException) -> None:
        # The parser failed at the end of a body (a deflate stream that never finished): it
        # queues an error answer, but the request being handled would wait for the rest of
        # its body until the deadline. Its read fails now instead.
        body, self._body = self._body, None
        if body is not None and not body.is_eof() and body.exception() is None:
            body.set_exception(exc)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self._awaiting_head() and self.transport is not None:
            log.info("closed a connection that did not finish its request headers in time")
            self.force_close()
            self.transport.close()

    def _body_deadline(self, payload: Any) -> None:
        if not payload.is_eof() and payload.exception() is None:
            log.info("request body not received in time")
            payload.set_exception(BodyReadTimeout())
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A client's broken body met while draining it after the answer (bad gzip, a body
        that stopped) is the client's mistake: one line, no traceback, no client bytes."""
        exc = kw.get("exc_info")
        if isinstance(exc, RequestPayloadError | HttpProcessingError):
            cause = exc.__cause__ if isinstance(exc, RequestPayloadError) else exc
            log.info("dropped a connection whose request body was broken: %s", type(cause).__name__)
            return
        super().log_exception(*args, **kw)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's own error answers (malformed HTTP) as problem+json, logged without input."""
        if status >= 500:
            # Outside every middleware (the error renderer included): logged whole, answered
            # without internals.
            self.log_exception("Error handling request", exc_info=exc)
            detail = "An unexpected error occurred; it has been logged."
        else:
            status, detail = bad_request_problem(exc)
            # The parser's message quotes the client's bytes (headers may hold tokens).
            log.info("malformed request from a client: %s", type(exc).__name__ if exc else status)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        response = problem_response(status, detail, title=HTTPStatus(status).phrase)
        response.force_close()
        return response


class EdgeServer(Server):
    """aiohttp's Server, making EdgeRequestHandler protocols."""

    def __init__(self, *args: Any, limits: LimitsConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits

    def __call__(self) -> RequestHandler:
        return EdgeRequestHandler(
            self,
            loop=self._loop,
            header_timeout_s=self._limits.header_timeout_s,
            body_timeout_s=self._limits.body_timeout_s,
            **self._kwargs,
        )


class EdgeRunner(web.AppRunner):
    """An AppRunner whose server speaks through EdgeRequestHandler."""

    def __init__(self, app: web.Application, *, limits: LimitsConfig, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        handler = server.request_handler
        # The intake lanes go first when the app has them (server/web/lanes.py).
        dispatch = self.app.get(DISPATCH)
        return EdgeServer(
            dispatch(handler) if dispatch is not None else handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            limits=self._limits,
            **server._kwargs,
        )


def handler_args(limits: LimitsConfig) -> dict[str, Any]:
    """The size limits and keep-alive timeout aiohttp's protocol takes as handler args."""
    return {
        "max_line_size": limits.max_line_bytes,
        "max_field_size": limits.max_field_bytes,
        "max_headers": limits.max_headers,
        "keepalive_timeout": limits.keepalive_timeout_s,
    }


def make_runner(app: web.Application, limits: LimitsConfig, **kwargs: Any) -> web.AppRunner:
    """The runner that serves the app with the edge's deadlines and limits."""
    return EdgeRunner(app, limits=limits, **kwargs)
