"""Serving the app: one process, or a supervisor and N processes on one port.

`run_web` serves in this process until SIGINT/SIGTERM (the runner with the edge limits and
the access log). `serve(config, processes=N)` with N > 1 is a supervisor: it reserves the
port, starts N `python -m server serve` children that each listen on it with SO_REUSEPORT
(the kernel spreads connections over them), restarts a child that dies, and stops them all
on SIGTERM. The children share their HTTP metrics through prometheus_client's multiprocess
files, so /metrics adds up every process whichever one answers the scrape.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from server.config import Config
from server.logs import write_clean
from server.web.app import create_app
from server.web.edge import make_runner
from server.web.lanes import ACCESS_LOGGER, LOGGED
from server.web.routes import LANES

log = logging.getLogger(__name__)
LANE_PATHS = frozenset(lane.path for lane in LANES)


class JsonAccessLogger(AbstractAccessLogger):
    """aiohttp access log as structured fields (the path only: query strings carry HMACs).

    A line for a route without path parameters is clean by construction (method, the
    route's own path, status, timings, the client address, our request id) and skips the
    masking regexes; any other path (an unmatched one may hold anything a client sent) is
    masked like every other line.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        # An intake lane's request is served before any route matching (server/web/lanes.py):
        # its path is one of the lanes' own, clean by construction.
        lane = request.method == "POST" and request.path in LANE_PATHS
        if lane and response.get(LOGGED):
            return  # its lane wrote the line (server/web/lanes.py)
        info = None if lane else getattr(request, "match_info", None)
        route = getattr(info, "route", None)
        fields = {
            "request_id": response.headers.get("X-Request-Id"),
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(time * 1000, 3),
            "remote": request.remote,
            "bytes": response.body_length,
        }
        message = f"{request.method} {request.path} {response.status}"
        if lane or isinstance(getattr(route, "resource", None), web.PlainResource):
            # Clean by construction: written straight out when logs go to stdout.
            if write_clean(self.logger, message, fields):
                return
            self.logger.info(message, extra={**fields, "_clean": True})
        else:
            self.logger.info(message, extra={**fields, "_clean": False})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


async def run_web(
    config: Config,
    *,
    on_ready: Any = None,
    on_stop: Callable[[], None] | None = None,
    reuse_port: bool = False,
) -> int:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests and close the pools.
    `on_stop` is called as the signal arrives (the all-in-one stops its workers then)."""
    app = create_app(config)
    runner = make_runner(
        app,
        config.limits,
        access_log_class=JsonAccessLogger,
        access_log=logging.getLogger(ACCESS_LOGGER) if config.logging.access_log else None,
        shutdown_timeout=config.app.shutdown_timeout_s,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, config.app.host, config.app.port, reuse_port=reuse_port or None)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else config.app.port
    url = f"http://{config.app.host}:{port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        if on_stop is not None:
            on_stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    log.info("serving on %s", url, extra={"url": url})
    if on_ready is not None:
        on_ready(url)
    await stop.wait()
    log.info("shutting down: finishing in-flight requests")
    await runner.cleanup()
    log.info("web server stopped")
    return 0


# Set by the supervisor for its children only: listen with SO_REUSEPORT; and, at the first
# start, the pipe to say "listening" on.
CHILD_ENV = "SERVE_SUPERVISED"
READY_FD_ENV = "SERVE_READY_FD"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A child that dies this often within RESTART_WINDOW_S stops the supervisor (it would only
# crash again: a bad config, a port taken).
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
READY_TIMEOUT_S = 60.0


def web_processes(config: Config) -> int:
    """How many web processes `serve` runs: WEB_PROCESSES, or (0) one per core in
    production and one in development."""
    if config.app.web_processes:
        return config.app.web_processes
    return (os.cpu_count() or 1) if config.app.production else 1


def serve(
    config: Config,
    *,
    processes: int,
    on_ready: Callable[[str], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Serve with `processes` processes (see the module docstring); returns the exit code.
    `on_stop` is called when the stop signal arrives."""
    import uvloop

    environ = os.environ if env is None else env
    if environ.get(CHILD_ENV):  # a supervisor's child: listen beside its siblings
        ready_fd = environ.get(READY_FD_ENV)

        def tell_parent(url: str) -> None:
            if ready_fd is not None:
                os.write(int(ready_fd), b"1")
                os.close(int(ready_fd))

        return uvloop.run(run_web(config, on_ready=tell_parent, reuse_port=True))
    if processes <= 1:
        return uvloop.run(run_web(config, on_ready=on_ready, on_stop=on_stop))
    return Supervisor(config, processes, environ, on_stop=on_stop).run(on_ready)


class Supervisor:
    """N web processes on one port; see the module docstring."""

    def __init__(
        self,
        config: Config,
        processes: int,
        env: Mapping[str, str],
        *,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.on_stop = on_stop
        self.processes = processes
        self.env = dict(env)
        self.children: list[subprocess.Popen[bytes]] = []
        self._stopping = False
        self._restarts: list[float] = []

    def run(self, on_ready: Callable[[str], None] | None) -> int:
        holder = self._reserve_port()
        port = holder.getsockname()[1]
        own_dir = None
        if not self.env.get(MULTIPROC_ENV):
            own_dir = tempfile.mkdtemp(prefix="web-metrics-")
            self.env[MULTIPROC_ENV] = own_dir
        self.env.update(PORT=str(port), WEB_PROCESSES="1")
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        try:
            read_end, write_end = os.pipe()
            try:
                self.children = [self._spawn(write_end) for _ in range(self.processes)]
                if not self._wait_ready(read_end):
                    return 0 if self._stopping else 1  # stopped while starting: a clean stop
                # Children started from now on do not report: only the first start waits.
            finally:
                os.close(write_end)
                os.close(read_end)
            url = f"http://{self.config.app.host}:{port}"
            log.info(
                "serving on %s with %d processes",
                url,
                self.processes,
                extra={"url": url, "processes": self.processes},
            )
            if on_ready is not None:
                on_ready(url)
            return self._supervise()
        finally:
            self._stop_children()
            holder.close()
            if own_dir is not None:
                shutil.rmtree(own_dir, ignore_errors=True)

    def _reserve_port(self) -> socket.socket:
        # Bound, never listening: it holds the port (PORT=0 picks one) and takes no
        # connection; the children's SO_REUSEPORT sockets on the same port do.
        host, port = self.config.app.host, self.config.app.port
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        holder = socket.socket(family, kind, proto)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(address)
        return holder

    def _spawn(self, ready_fd: int | None) -> subprocess.Popen[bytes]:
        from server.processes import die_with_parent

        env = {**self.env, CHILD_ENV: "1"}
        pass_fds: tuple[int, ...] = ()
        if ready_fd is not None:
            env[READY_FD_ENV] = str(ready_fd)
            pass_fds = (ready_fd,)
        else:
            env.pop(READY_FD_ENV, None)
        return subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            env=env,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509  (see server/processes.py)
        )

    def _wait_ready(self, read_end: int) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        ready = 0
        os.set_blocking(read_end, False)
        while ready < self.processes:
            if self._stopping:
                return False
            if any(child.poll() is not None for child in self.children):
                log.error("a web process exited during start-up")
                return False
            if time.monotonic() > deadline:
                log.error("web processes not ready after %.0f s", READY_TIMEOUT_S)
                return False
            try:
                ready += len(os.read(read_end, 64))
            except BlockingIOError:
                time.sleep(0.05)
        return True

    def _supervise(self) -> int:
        while not self._stopping:
            time.sleep(0.2)
            for index, child in enumerate(self.children):
                code = child.poll()
                if code is None or self._stopping:
                    continue
                self._mark_dead(child.pid)
                now = time.monotonic()
                self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
                if len(self._restarts) > MAX_RESTARTS:
                    log.error("web processes keep exiting; stopping", extra={"code": code})
                    return 1
                log.error(
                    "web process %d exited with %s; starting another",
                    child.pid,
                    code,
                    extra={"pid": child.pid, "code": code},
                )
                self.children[index] = self._spawn(None)
        return 0

    def _stop(self, _signum: int, _frame: Any) -> None:
        self._stopping = True
        if self.on_stop is not None:
            self.on_stop()

    def _stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.app.shutdown_timeout_s + 5
        for child in self.children:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.info("web processes stopped")

    def _mark_dead(self, pid: int) -> None:
        from prometheus_client import multiprocess

        directory = self.env.get(MULTIPROC_ENV)
        if directory:
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
