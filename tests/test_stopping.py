"""Stopping: the worker pool, `serve --processes 2` and the all-in-one each stop within
`app.shutdown_timeout_s` + 5 s, whether SIGTERM or SIGINT reaches the main process only or
every process of its group (systemd's `KillMode=control-group`, an init, a terminal's
Ctrl-C), and leave nothing behind; work a stopping worker had taken is not lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from tortoise import Tortoise

from models import WebhookDelivery
from server.db import tortoise_config
from server.embedded import free_port
from tests.helpers import PROCESS_OUTPUTS, eventually, ready_on, spawn

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

SHUTDOWN_TIMEOUT_S = 3.0
BOUND_S = SHUTDOWN_TIMEOUT_S + 5
DELIVERIES = 3000


def _config_file(tmp_path: Path) -> Path:
    """config.toml with a short app.shutdown_timeout_s (the bound under test)."""
    text = (ROOT / "config.toml").read_text()
    text, n = re.subn(
        r"^shutdown_timeout_s = [0-9.]+",
        f"shutdown_timeout_s = {SHUTDOWN_TIMEOUT_S}",
        text,
        flags=re.M,
    )
    assert n == 1
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


class Tree:
    """A command of ours in its own session and process group, as a service manager or a
    shell starts it; its output goes to a file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.proc = spawn([sys.executable, "-m", "server", *argv], env=env, log=log)
        self._kept = False

    def said(self, text: str) -> bool:
        return text in self.log_path.read_text(errors="replace")

    def processes(self) -> list[psutil.Process]:
        main = psutil.Process(self.proc.pid)
        return [main, *main.children(recursive=True)]

    def output(self) -> str:
        text = self.log_path.read_text(errors="replace")
        if not self._kept:  # the session checks every process's output for secrets
            PROCESS_OUTPUTS.append(text)
            self._kept = True
        return text

    def kill(self) -> None:
        for process in self.processes() if self.proc.poll() is None else []:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.proc.wait(10)


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _workers_beating(var_dir: Path, processes: int) -> bool:
    folder = var_dir / "heartbeats"
    return folder.is_dir() and len(list(folder.glob("worker-*"))) >= processes


async def _seed_deliveries(database_url: str) -> None:
    """Pending app/uninstalled deliveries (of shops we never had: each applies quickly and
    changes nothing), due now: the pool's sweepers hand them to its workers."""
    now = datetime.now(UTC)
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                shop_domain=f"gone-{i}.myshopify.com",
                topic="app/uninstalled",
                event_id=f"ev-{i}",
                received_at=now,
                state="pending",
                payload="{}",
                next_attempt_at=now - timedelta(seconds=1),
            )
            for i in range(DELIVERIES)
        ],
        batch_size=1000,
    )


async def _states() -> dict[str, int]:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state"
    )
    return {row["state"]: int(row["n"]) for row in rows}


@pytest.fixture
async def db(base_env):
    await Tortoise.init(config=tortoise_config(base_env["DATABASE_URL"], pool_max=2))
    yield
    await Tortoise.close_connections()


async def _next_pool(
    argv: list[str], env: dict[str, str], log: Path, check: Any, what: str
) -> None:
    """A fresh pool, as an orchestrator starts after a stop: `check` holds within 120 s."""
    again = Tree(argv, env, log)
    try:
        await eventually(check, what=what, timeout_s=120, process=again.proc)
    finally:
        again.proc.send_signal(signal.SIGTERM)
        again.proc.wait(BOUND_S + 60)
        again.output()


async def _signal_and_time(tree: Tree, signum: int, *, group: bool) -> float:
    """Send the stop signal; seconds until every process of the tree has exited."""
    processes = tree.processes()
    started = time.monotonic()
    if group:
        os.killpg(tree.proc.pid, signum)
    else:
        tree.proc.send_signal(signum)

    def all_gone() -> bool:
        alive = [p.pid for p in processes if not _gone(p)]
        assert not alive, f"still running: {alive}"
        return True

    await eventually(all_gone, what="every process gone", timeout_s=BOUND_S + 60)
    return time.monotonic() - started


KINDS = {
    # argv, what it says once it is up (None: nothing), worker processes?
    "worker": (["worker"], None, True),
    "serve": (["serve", "--processes", "2"], "with 2 processes", False),
    "all-in-one": ([], "Shopify app backend running at", True),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("target", ["main", "group"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_stops_within_the_bound_however_it_is_signalled(
    base_env, db, tmp_path, kind, target, signum
):
    argv, up_line, workers = KINDS[kind]
    port = free_port()
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        **base_env,
        "CONFIG_FILE": str(_config_file(tmp_path)),
        "VAR_DIR": str(var_dir),
        "PORT": str(port),
        "WORKER_PROCESSES": "2",
        "WORKER_THREADS": "2",
        "OUTBOX_SWEEP_INTERVAL_S": "1",
        "OUTBOX_STALE_AFTER_S": "2",
    }
    if workers:
        await _seed_deliveries(base_env["DATABASE_URL"])
    tree = Tree(argv, env, tmp_path / "tree.log")
    try:
        if up_line is not None:
            await eventually(
                lambda: tree.said(up_line) and ready_on(port),
                what=f"{kind} up",
                timeout_s=90,
                process=tree.proc,
            )
        if workers:
            await eventually(
                lambda: _workers_beating(var_dir, 2),
                what="2 worker processes beating",
                timeout_s=90,
                process=tree.proc,
            )

            async def some_applied() -> bool:
                return (await _states()).get("done", 0) > 0

            # Mid-work: the sweepers handed the deliveries out, some are applied already.
            await eventually(some_applied, what="deliveries applied", process=tree.proc)
        assert len(tree.processes()) >= (4 if kind == "all-in-one" else 3)
        took_s = await _signal_and_time(tree, signum, group=target == "group")
        code = tree.proc.wait(5)
        output = tree.output()
        assert took_s <= BOUND_S, f"stopped in {took_s:.1f} s (bound {BOUND_S} s)\n{output[-3000:]}"
        assert "Killing worker process" not in output, output[-3000:]
        # A group SIGTERM reaches each worker process twice (the group's, the main process's
        # forward) unless it has finished stopping before the forward: the second one is then
        # "already stopping: SIGTERM ignored", never the kill path above.
        assert code == 0, output[-3000:]
    finally:
        if tree.proc.poll() is None:
            tree.kill()
        tree.output()

    if workers:
        # Nothing lost: what the stopped pool had not applied (or was cut off in) is applied
        # by the next pool, once its sweeper finds it due.

        async def all_applied() -> dict[str, int]:
            states = await _states()
            assert states == {"done": DELIVERIES}, states
            return states

        await _next_pool(["worker"], env, tmp_path / "again.log", all_applied, "all applied")


async def test_a_message_still_running_at_the_bound_is_cut_off_and_redone(base_env, db, tmp_path):
    """A delivery that cannot finish (its write waits on a lock) when the pool is stopped:
    the worker process exits at the bound, and the delivery, rolled back with its
    connection, is applied once by the next pool."""
    import asyncpg

    from server.config import load_config
    from tests.helpers import install_shop

    shop = "stuck-store.myshopify.com"
    await install_shop(load_config(base_env), shop)
    now = datetime.now(UTC)
    delivery = await WebhookDelivery.create(
        shop_domain=shop,
        topic="app/uninstalled",
        event_id="stuck",
        received_at=now,
        state="pending",
        payload="{}",
        next_attempt_at=now - timedelta(seconds=1),
    )
    env = {
        **os.environ,
        **base_env,
        "CONFIG_FILE": str(_config_file(tmp_path)),
        "VAR_DIR": str(tmp_path / "var"),
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "1",
        "OUTBOX_SWEEP_INTERVAL_S": "1",
        "OUTBOX_STALE_AFTER_S": "2",
        "SYNC_INTERVAL_S": "86400",  # the installed shop is due no sync here
    }
    dsn = base_env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    blocker = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)  # inside a transaction pg_stat_activity is a snapshot
    holding = blocker.transaction()
    await holding.start()
    await blocker.execute("LOCK TABLE shops IN SHARE ROW EXCLUSIVE MODE")
    # Only the queue of app/uninstalled: the one worker thread is there for it.
    tree = Tree(["worker", "-Q", "webhooks"], env, tmp_path / "tree.log")
    try:

        async def stuck() -> bool:
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND application_name LIKE '%worker%'"
            )
            assert waiting >= 1, f"{waiting} waiting"
            return True

        await eventually(stuck, what="the worker inside the delivery", process=tree.proc)
        took_s = await _signal_and_time(tree, signal.SIGTERM, group=True)
        output = tree.output()
        assert took_s <= BOUND_S, f"stopped in {took_s:.1f} s\n{output[-3000:]}"
        assert "worker process still stopping" in output, output[-3000:]
        assert tree.proc.wait(5) != 0  # cut off, and it says so
    finally:
        if tree.proc.poll() is None:
            tree.kill()
        await holding.rollback()
        await blocker.close()
        await watcher.close()
    await delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)  # rolled back, not lost

    async def applied() -> bool:
        await delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == ("done", 1)
        return True

    await _next_pool(
        ["worker", "-Q", "webhooks"], env, tmp_path / "again.log", applied, "applied once"
    )
