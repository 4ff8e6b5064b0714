"""`python -m server serve --processes N`: N web processes on one port, supervised.

The supervisor reserves the port, its children listen on it with SO_REUSEPORT, a child
that dies is replaced, /metrics adds up every process, and SIGTERM stops them all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import orjson
import psutil
import pytest

from tests.helpers import eventually

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


class Served:
    """The supervisor's process, its JSON log lines collected by a thread."""

    def __init__(self, env: dict[str, str], processes: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--processes", str(processes)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.lines.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                self.lines.append({"message": raw.decode(errors="replace")})

    def url(self) -> str | None:
        for line in self.lines:
            if line.get("processes") and line.get("url"):
                return line["url"]
        assert self.proc.poll() is None, self.lines[-20:]
        return None

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(10)
            assert self.proc.stdout is not None
            self.proc.stdout.close()


async def _healthz_requests(url: str, n: int, *, hold: asyncio.Event | None = None) -> bool:
    # n connections of their own, open at once (the kernel spreads connections, not requests).
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(f"{url}/healthz") as response:
                assert response.status == 200

        await asyncio.gather(*(one() for _ in range(n)))
        if hold is not None:
            await hold.wait()
    return True


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _http_requests_total(text: str, route: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("http_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_n_processes_share_the_port_add_up_their_metrics_and_are_replaced(base_env, tmp_path):
    env = {**base_env, "PORT": "0", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    served = Served(env, processes=2)
    try:
        url = await eventually(served.url, what="the supervisor's 'serving on' line")
        first = served.children()
        assert len(first) == 2

        # Both children take connections: hold 40 open and look at each child's sockets.
        hold = asyncio.Event()
        requests = asyncio.create_task(_healthz_requests(url, 40, hold=hold))

        def both_have_connections() -> bool:
            for child in first:
                established = [
                    c for c in child.net_connections(kind="tcp") if c.status == "ESTABLISHED"
                ]
                assert established, f"pid {child.pid} holds no connection"
            return True

        await eventually(both_have_connections, what="connections on both children")
        hold.set()
        await requests

        # /metrics counts every process's requests, whichever process answers the scrape.
        async with aiohttp.ClientSession() as session:
            for _ in range(6):
                async with session.get(f"{url}/metrics", headers={"Connection": "close"}) as r:
                    assert _http_requests_total(await r.text(), "/healthz") == 40

        # A child killed outright is replaced; the port keeps answering.
        victim = first[0]
        victim.send_signal(signal.SIGKILL)

        def replaced() -> bool:
            pids = {c.pid for c in served.children()}
            assert len(pids) == 2 and victim.pid not in pids, pids
            return True

        await eventually(replaced, what="a new child in place of the killed one")
        await eventually(
            lambda: _healthz_requests(url, 1),
            what="the port answering after the restart",
            ignoring=(aiohttp.ClientError,),
            interval_s=0.5,
        )
        children = served.children()
    finally:
        code = served.stop()
    assert code == 0
    assert all(_gone(c) for c in children)
    assert any("exited with" in str(line.get("message")) for line in served.lines)


def test_web_processes_default_to_one_per_core_in_production_and_one_in_development(
    make_pure_config,
):
    from server.web.serve import web_processes

    auto = "0"  # the shipped default (the tests' environment pins one process)
    assert web_processes(make_pure_config(APP_ENV="development", WEB_PROCESSES=auto)) == 1
    production = make_pure_config(APP_ENV="production", WEB_PROCESSES=auto)
    assert web_processes(production) == (os.cpu_count() or 1)
    assert web_processes(make_pure_config(WEB_PROCESSES="3")) == 3
