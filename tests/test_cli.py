"""`python -m server`: help for every command, and the all-in-one embedded boot."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from server.embedded import free_port
from tests.helpers import all_in_one_env, embedded_base_dir, eventually, run_cli, wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["worker"], ["migrate"], ["rotate-keys"], ["backup"], ["restore"]]
)
def test_every_command_has_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "server", *command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "usage: python -m server" in result.stdout


def test_migrate_command_applies_nothing_twice(base_env):
    result = run_cli("migrate", env=base_env)
    assert result.returncode == 0, result.stderr
    assert "none pending" in result.stdout


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (loopback)
            return int(response.status)
    except OSError:
        return 0


@pytest.mark.slow
def test_all_in_one_boots_embedded_stores_and_leaves_nothing_behind(secrets_env):
    """No DATABASE_URL / REDIS_URL: embedded PostgreSQL + Redis, web + worker, clean stop."""
    tmp_path = embedded_base_dir()
    port = free_port()
    env = all_in_one_env(tmp_path / "var", port)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    descendants: set[int] = set()
    try:
        # Poll the readiness probe itself; the deadline is the "about 30 s" plus slack.
        wait_until(
            lambda: _get(f"http://127.0.0.1:{port}/readyz") == 200,
            what="the all-in-one ready",
            timeout_s=90,
            interval_s=0.25,
            process=proc,
        )
        boot_s = time.monotonic() - started
        tree = psutil.Process(proc.pid).children(recursive=True)
        descendants = {p.pid for p in tree}
        names = " ".join(" ".join(p.cmdline()) for p in tree)
        assert "postgres" in names and "redis-server" in names and "worker" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output[-3000:]
    assert f"running at http://127.0.0.1:{port}" in output
    assert boot_s < 60
    alive = [
        pid
        for pid in descendants
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert not alive, f"processes left behind: {alive}"
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.slow
async def test_serve_finishes_in_flight_requests_on_sigterm(base_env, redis_url):
    """SIGTERM while a request is in flight: it still gets its answer, then a clean exit."""
    import asyncio

    import aiohttp

    accepted = asyncio.Event()

    async def blackhole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Accepts Redis connections and never answers: /readyz waits on its 2 s timeout.
        accepted.set()
        await reader.read(-1)
        writer.close()

    hole = await asyncio.start_server(blackhole, "127.0.0.1", 0)
    hole_port = hole.sockets[0].getsockname()[1]
    port = free_port()
    env = {
        **os.environ,
        **base_env,
        "PORT": str(port),
        "REDIS_URL": f"redis://127.0.0.1:{hole_port}/0",
        "BROKER_URL": redis_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def listening() -> bool:  # the health probe itself says so
                async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                    return r.status == 200

            await eventually(
                listening,
                what="the server listening",
                process=proc,
                ignoring=(aiohttp.ClientConnectionError,),
            )
            in_flight = asyncio.ensure_future(session.get(f"http://127.0.0.1:{port}/readyz"))
            await asyncio.wait_for(accepted.wait(), 10)  # the request is now waiting on Redis
            proc.send_signal(signal.SIGTERM)
            response = await asyncio.wait_for(in_flight, 20)
            assert response.status == 200  # Redis is only a helper: degraded, still ready
            body = await response.json(content_type=None)
            assert body["checks"]["redis"] == "degraded: timed out"
            response.release()
        code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        hole.close()
        await hole.wait_closed()
