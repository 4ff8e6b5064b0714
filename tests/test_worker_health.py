"""Worker heartbeat: `python -m server worker --check`, the live-workers gauge, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

import pytest

from actors.heartbeat import check_heartbeats, heartbeat_dir
from tests.helpers import eventually, run_cli


def _live_workers(metrics_text: str) -> float:
    match = re.search(r"^dramatiq_workers_live (\S+)$", metrics_text, re.MULTILINE)
    assert match, "dramatiq_workers_live missing from /metrics"
    return float(match.group(1))


def test_check_without_heartbeats_or_with_stale_ones_is_unhealthy(tmp_path):
    healthy, line = check_heartbeats(tmp_path)
    assert not healthy and "no worker heartbeat" in line
    folder = heartbeat_dir(tmp_path)
    folder.mkdir()
    beat = folder / "worker-123"
    beat.touch()
    assert check_heartbeats(tmp_path)[0]
    old = time.time() - 120
    os.utime(beat, (old, old))
    healthy, line = check_heartbeats(tmp_path, stale_s=30)
    assert not healthy and "120 s ago" in line


@pytest.mark.slow  # starts a process of ours
def test_worker_check_exits_1_when_no_worker_runs(pure_env):
    result = run_cli("worker", "--check", env=pure_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("unhealthy: no worker heartbeat")


@pytest.mark.worker
async def test_a_running_worker_is_healthy_counted_live_and_stops_on_sigterm(
    base_env, config, client, start_worker
):
    """The health check and /metrics see the worker while it runs; SIGTERM stops it cleanly
    within the documented time (app.shutdown_timeout_s), and both see it gone."""
    assert _live_workers(await (await client.get("/metrics")).text()) == 0
    worker = start_worker(processes=2)

    async def both_booted() -> Any:  # the health check itself says so
        result = await asyncio.to_thread(run_cli, "worker", "--check", env=base_env)
        assert result.returncode == 0 and "2 worker process" in result.stdout, result.stdout
        return result

    result = await eventually(both_booted, what="both worker processes healthy", process=worker)
    assert result.stdout.startswith("healthy:")
    assert _live_workers(await (await client.get("/metrics")).text()) == 2

    started = time.monotonic()
    code = await worker.stop_async()
    stop_s = time.monotonic() - started
    assert code == 0, worker.output[-3000:]
    assert stop_s < config.app.shutdown_timeout_s
    # A worker that stopped takes its heartbeat with it: unhealthy at once, not 30 s later.
    result = run_cli("worker", "--check", env=base_env)
    assert result.returncode == 1, result.stdout
    assert _live_workers(await (await client.get("/metrics")).text()) == 0
