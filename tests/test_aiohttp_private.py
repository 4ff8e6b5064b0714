"""What server/web/edge.py relies on inside aiohttp beyond its public API, pinned.

aiohttp gives no public hook for read deadlines, so `EdgeRequestHandler` subclasses its
protocol and reads its state, and `EdgeRunner` rebuilds the runner's server. An aiohttp
upgrade that renames or changes any of these fails here, by name, before the deadlines
quietly stop working:

- `RequestHandler._messages`: the deque of `(message, payload)` that `data_received`
  appends one entry to per parsed request head, before the handler task takes it;
  an `_ErrInfo` (with `.exc`) in place of the message when the parser failed;
- `RequestHandler._request_count`: +1 per parsed head, in `data_received`;
- `RequestHandler._current_request`: the request being handled, None between requests;
- `RequestHandler._loop`, `force_close()`, `transport`, `log_exception(...)`,
  `handle_error(request, status, exc, message)`, `connection_lost(exc)`;
- `Server.__call__` makes `RequestHandler(self, loop=self._loop, **self._kwargs)`, and a
  Server has `request_handler`, `request_factory`, `handler_cancellation`, `_loop`,
  `_kwargs`; `AppRunner._make_server()` is the coroutine that builds it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_server import Server

from tests.helpers import eventually


class Recording(RequestHandler):
    """aiohttp's protocol, noting after each `data_received` what edge.py reads then."""

    def __init__(self, manager: Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.seen: list[dict[str, Any]] = []
        self.done = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        awaiting_head = not self._messages and self._current_request is None
        super().data_received(data)
        self.seen.append(
            {
                "awaiting_head_before": awaiting_head,
                "new_requests": self._request_count - before,
                # (message type, payload type, whether the body was all there) as edge.py
                # reads them: at this moment, before the handler task takes the entry.
                "queued": [
                    (type(message), type(payload), payload.is_eof())
                    for message, payload in list(self._messages)
                ],
            }
        )

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self.done.set()


async def _serve(handler: Any):
    made: list[Recording] = []

    class RecordingServer(Server):
        def __call__(self) -> RequestHandler:
            protocol = Recording(self, loop=self._loop, **self._kwargs)
            made.append(protocol)
            return protocol

    server = RecordingServer(handler, loop=asyncio.get_running_loop())
    tcp = await asyncio.get_running_loop().create_server(server, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    return tcp, port, made


async def test_a_parsed_head_is_queued_with_its_payload_and_counted_in_data_received():
    in_handler: list[bool] = []

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        # While a request is handled, it is the protocol's current request.
        in_handler.append(request.protocol._current_request is request)  # type: ignore[attr-defined]
        await request.read()
        return web.Response(text="ok")

    tcp, port, made = await _serve(handler)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")  # half a head
        await writer.drain()
        await eventually(lambda: made and made[0].seen, what="the half head read", timeout_s=5)
        writer.write(b"Content-Length: 4\r\n\r\nab")  # the rest of the head, half the body
        await writer.drain()
        await eventually(lambda: len(made[0].seen) >= 2, what="the whole head read", timeout_s=5)
        writer.write(b"cd")
        await writer.drain()
        assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
        writer.close()
        await made[0].done.wait()
    finally:
        tcp.close()
    protocol = made[0]
    first, second = protocol.seen[0], protocol.seen[1]
    assert first["awaiting_head_before"] is True
    assert first["new_requests"] == 0 and first["queued"] == []
    assert second["new_requests"] == 1
    assert second["queued"] == [(RawRequestMessage, StreamReader, False)]
    assert isinstance(protocol._messages, deque)
    assert in_handler == [True]
    assert protocol._current_request is None  # between requests (and after)


async def test_a_head_the_parser_refuses_is_queued_as_an_err_info_with_the_exception():
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(text="never")

    tcp, port, made = await _serve(handler)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        await writer.drain()
        await reader.read()  # aiohttp answers 400 and closes
        writer.close()
        await made[0].done.wait()
    finally:
        tcp.close()
    counted = [s for s in made[0].seen if s["new_requests"]]
    assert counted, "the refused head was not counted in _request_count"
    assert counted[0]["queued"][-1][0] is _ErrInfo
    assert {"status", "exc", "message"} <= set(inspect.get_annotations(_ErrInfo))
    info = _ErrInfo(status=400, exc=BadHttpMessage("x"), message="x")
    assert isinstance(info.exc, BadHttpMessage)


def test_the_methods_edge_overrides_or_calls_keep_their_signatures():
    init = inspect.signature(RequestHandler.__init__).parameters
    assert (
        list(init)[:2] == ["self", "manager"]
        and init["loop"].kind is inspect.Parameter.KEYWORD_ONLY
    )
    assert {"max_line_size", "max_field_size", "max_headers", "keepalive_timeout"} <= set(init)
    assert list(inspect.signature(RequestHandler.handle_error).parameters) == [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ]
    assert list(inspect.signature(RequestHandler.connection_lost).parameters) == ["self", "exc"]
    assert list(inspect.signature(RequestHandler.data_received).parameters) == ["self", "data"]
    for name in ("force_close", "log_exception", "transport"):
        assert hasattr(RequestHandler, name), name
    for name in ("_messages", "_request_count", "_current_request"):
        assert name in RequestHandler.__slots__, name
    server_init = inspect.signature(Server.__init__).parameters
    assert {"handler", "request_factory", "handler_cancellation", "loop", "kwargs"} <= set(
        server_init
    )
    assert inspect.iscoroutinefunction(web.AppRunner._make_server)


async def test_the_runner_s_server_carries_what_edge_runner_rebuilds_it_from():
    app = web.Application()
    runner = web.AppRunner(app, keepalive_timeout=7, handle_signals=False)
    await runner.setup()
    try:
        server = await runner._make_server()
        assert isinstance(server, Server)
        assert callable(server.request_handler) and callable(server.request_factory)
        assert isinstance(server.handler_cancellation, bool)
        assert server._loop is asyncio.get_running_loop()
        assert server._kwargs["keepalive_timeout"] == 7
        protocol = server()
        assert isinstance(protocol, RequestHandler) and protocol._loop is server._loop
    finally:
        await runner.cleanup()
