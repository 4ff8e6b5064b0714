"""Serving the app: the runner with the edge limits and the access log, until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from server.config import Config
from server.web.app import create_app
from server.web.edge import make_runner

log = logging.getLogger(__name__)


class JsonAccessLogger(AbstractAccessLogger):
    """aiohttp access log as structured fields (the path only: query strings carry HMACs).

    A line for a route without path parameters is clean by construction (method, the
    route's own path, status, timings, the client address, our request id) and skips the
    masking regexes; any other path (an unmatched one may hold anything a client sent) is
    masked like every other line.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        info = getattr(request, "match_info", None)
        route = getattr(info, "route", None)
        clean = isinstance(getattr(route, "resource", None), web.PlainResource)
        self.logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={
                "request_id": response.headers.get("X-Request-Id"),
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": round(time * 1000, 3),
                "remote": request.remote,
                "bytes": response.body_length,
                "_clean": clean,
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


async def run_web(config: Config, *, on_ready: Any = None) -> int:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests and close the pools."""
    app = create_app(config)
    runner = make_runner(
        app,
        config.limits,
        access_log_class=JsonAccessLogger,
        access_log=logging.getLogger("server.access") if config.logging.access_log else None,
        shutdown_timeout=config.app.shutdown_timeout_s,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, config.app.host, config.app.port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else config.app.port
    url = f"http://{config.app.host}:{port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving on %s", url, extra={"url": url})
    if on_ready is not None:
        on_ready(url)
    await stop.wait()
    log.info("shutting down: finishing in-flight requests")
    await runner.cleanup()
    log.info("web server stopped")
    return 0
