"""`python -m server`: all-in-one (default), serve, worker, migrate, rotate-keys, deliveries,
billing."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from server.config import Config, ConfigError, load_config
from server.logs import configure_logging

log = logging.getLogger("server")

# In VAR_DIR: held (flock) by the running all-in-one; a second one in the same VAR_DIR exits 2.
INSTANCE_LOCK = "all-in-one.lock"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description=(
            "Shopify app backend. With no command: all-in-one (embedded PostgreSQL and Redis "
            "when DATABASE_URL / REDIS_URL are unset, migrations, web server and a worker pool)."
        ),
    )
    parser.add_argument("--host", help="listen address (env HOST)")
    parser.add_argument("--port", type=int, help="listen port; 0 picks a free one (env PORT)")
    parser.add_argument("--processes", type=int, help="worker processes (env WORKER_PROCESSES)")
    parser.add_argument(
        "--threads", type=int, help="threads per worker process (env WORKER_THREADS)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the web server (production)",
        description="Run the web server. Needs DATABASE_URL and REDIS_URL.",
    )
    serve.add_argument("--host", help="listen address (env HOST)")
    serve.add_argument("--port", type=int, help="listen port (env PORT)")
    serve.add_argument(
        "--processes",
        type=int,
        help="web processes on the port (env WEB_PROCESSES; default one per core in production)",
    )

    worker = commands.add_parser(
        "worker",
        help="run a Dramatiq worker pool",
        description="Run a Dramatiq worker pool. Needs DATABASE_URL and REDIS_URL (BROKER_URL "
        "selects another broker; amqp://... is RabbitMQ).",
    )
    worker.add_argument(
        "--processes", "-p", type=int, help="worker processes (env WORKER_PROCESSES)"
    )
    worker.add_argument(
        "--threads", "-t", type=int, help="threads per process (env WORKER_THREADS)"
    )
    worker.add_argument(
        "--queues",
        "-Q",
        nargs="+",
        help="only these queues (env WORKER_QUEUES, comma-separated; default all)",
    )
    worker.add_argument(
        "--check",
        action="store_true",
        help="health check, runs nothing: exit 0 when a worker process on this host beat "
        "within 30 s (files in VAR_DIR/heartbeats), else 1",
    )

    commands.add_parser(
        "migrate",
        help="apply pending database migrations",
        description="Apply every pending Aerich migration to DATABASE_URL.",
    )
    commands.add_parser(
        "rotate-keys",
        help="re-encrypt every stored token with the newest key",
        description="Re-encrypt every stored token with the first of TOKEN_ENCRYPTION_KEYS "
        "(and encrypt any legacy plaintext token). Safe while the app runs: deploy the new "
        "key list to web and workers first, then run this; drop the old key afterwards.",
    )
    _add_deliveries(commands)
    _add_billing(commands)
    for name, text in (
        (
            "backup",
            "Dump the database (DATABASE_URL; unset: the embedded one in VAR_DIR, with the "
            "all-in-one stopped) to FILE with pg_dump's custom format. Tokens stay encrypted: "
            "keep TOKEN_ENCRYPTION_KEYS (in development var/dev-secrets.toml) with it.",
        ),
        (
            "restore",
            "Restore FILE (from `backup`) into DATABASE_URL (unset: the embedded database in "
            "VAR_DIR, with the all-in-one stopped), which must hold no tables yet.",
        ),
    ):
        command = commands.add_parser(name, help=text.split(" (", 1)[0], description=text)
        command.add_argument("file", type=Path, metavar="FILE")
    return parser


def _add_deliveries(commands: Any) -> None:
    deliveries = commands.add_parser(
        "deliveries",
        help="list or replay webhook deliveries and pixel aggregations that failed",
        description="Work that kept failing ends in state `failed` with its last error: list "
        "it (or the pending backlog), and replay it once the cause is fixed. A replayed row is "
        "sent to the workers by their sweeper within OUTBOX_SWEEP_INTERVAL_S.",
    )
    actions = deliveries.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list failed (or pending) work")
    listing.add_argument("--kind", choices=["webhook", "pixel", "all"], default="all")
    listing.add_argument("--state", choices=["failed", "pending"], default="failed")
    listing.add_argument("--limit", type=int, default=100, help="rows per kind (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    retry = actions.add_parser("retry", help="make failed work pending again")
    retry.add_argument("--kind", choices=["webhook", "pixel"], default="webhook")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every failed row of the kind")
    which.add_argument("ids", nargs="*", type=int, default=[], help="row ids (from `list`)")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from None


def _add_billing(commands: Any) -> None:
    billing = commands.add_parser(
        "billing",
        help="run billing work now (the daily usage charge)",
        description="Billing operations (docs/billing.md).",
    )
    actions = billing.add_subparsers(dest="action", metavar="ACTION", required=True)
    usage = actions.add_parser(
        "usage",
        help="charge a day's metered usage now",
        description="Re-read each shop's charges from Shopify, record the day's usage charge "
        "(once per shop, period and day) and send every pending one with its idempotency "
        "key. Safe to run at any time and any number of times: nothing is charged twice. "
        "Exit 1 when a charge is left pending (Shopify unreachable) or failed.",
    )
    usage.add_argument("--shop", help="only this shop (its *.myshopify.com domain)")
    usage.add_argument(
        "--day", type=_day, help="the UTC day to charge, YYYY-MM-DD (default: yesterday)"
    )


def _env_with_flags(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    # `serve --processes` is the web server's; everywhere else it sizes the worker pool.
    processes = "WEB_PROCESSES" if args.command == "serve" else "WORKER_PROCESSES"
    for flag, name in (
        ("host", "HOST"),
        ("port", "PORT"),
        ("processes", processes),
        ("threads", "WORKER_THREADS"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            env[name] = str(value)
    queues = getattr(args, "queues", None)
    if queues:
        env["WORKER_QUEUES"] = ",".join(queues)
    return env


def _require_stores(config: Config, command: str) -> None:
    for env, value in (("DATABASE_URL", config.database.url), ("REDIS_URL", config.redis.url)):
        if not value:
            raise ConfigError(
                f"{env}: required for `{command}` (only the all-in-one command starts embedded stores)"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the command; a config error is one line on stderr, exit 2."""
    args = _parser().parse_args(argv)
    env = _env_with_flags(args)
    check = bool(getattr(args, "check", False))
    try:
        config = load_config(env)
        if (
            args.command in {"serve", "worker", "migrate", "rotate-keys", "deliveries", "billing"}
            and not check
        ):
            _require_stores(config, args.command)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)  # noqa: T201
        return 2
    if check:
        return _worker_check(config)
    if args.command in {"backup", "restore"}:
        configure_logging(config.logging, secrets=config.secret_values())
        return _backup_or_restore(config, args.command, args.file)
    # logging.background: the web server may log from a listener thread (off by default,
    # measured slower under the GIL: config.toml); other commands always log in line.
    background = config.logging.background and args.command in {None, "serve"}
    configure_logging(config.logging, secrets=config.secret_values(), background=background)
    if args.command == "deliveries":
        return _deliveries(config, args)
    if args.command == "billing":
        return _billing_usage(config, shop=args.shop, day=args.day)
    commands = {
        "serve": _serve,
        "worker": _worker,
        "migrate": _migrate,
        "rotate-keys": _rotate_keys,
    }
    command = commands.get(args.command)
    return command(config) if command is not None else _all_in_one(config, env)


def _migrate(config: Config) -> int:
    _migrate_database(config.database.url)
    return 0


def _migrate_database(database_url: str) -> None:
    """Apply pending migrations, then what each flow adds after them (AFTER_MIGRATIONS)."""
    import server.flows  # noqa: F401  (the flows register their steps after migrations)
    from server.db import apply_migrations

    applied = asyncio.run(apply_migrations(database_url))
    log.info("migrations applied: %s", ", ".join(applied) or "none pending")


def _rotate_keys(config: Config) -> int:
    from tortoise import Tortoise

    from server.db import database
    from server.security.crypto import TokenCipher
    from server.security.rotation import reencrypt_tokens

    keys = config.security.token_encryption_keys

    async def run() -> int:
        async with database(config):
            return await reencrypt_tokens(
                Tortoise.get_connection("default"), TokenCipher(keys), TokenCipher(keys[:1])
            )

    rows = asyncio.run(run())
    log.info("rotate-keys: %d token rows re-encrypted with the newest key", rows)
    return 0


def _deliveries(config: Config, args: argparse.Namespace) -> int:
    import orjson

    from server.db import database
    from server.deliveries_command import KINDS, list_work, retry_failed

    async def run() -> int:
        async with database(config):
            if args.action == "list":
                kinds = KINDS if args.kind == "all" else (args.kind,)
                for row in await list_work(kinds, state=args.state, limit=args.limit):
                    if args.json:
                        print(orjson.dumps(row.as_dict()).decode())  # noqa: T201
                    else:
                        print(  # noqa: T201
                            f"{row.kind}\t{row.id}\t{row.shop}\t{row.what}\t{row.state}\t"
                            f"attempts={row.attempts}\t{row.at.isoformat()}\t"
                            f"{row.last_error or ''}"
                        )
                return 0
            ids = None if args.all else list(args.ids)
            done = await retry_failed(args.kind, ids, stale_after_s=config.outbox.stale_after_s)
            print(f"{len(done)} {args.kind} row(s) pending again: {' '.join(map(str, done))}")  # noqa: T201
            return 0 if done or args.all else 1

    return asyncio.run(run())


def _billing_usage(config: Config, *, shop: str | None, day: date | None) -> int:
    from server.billing.usage import charge_usage, shops_to_bill, yesterday
    from server.services import close_pools, open_pools
    from server.shopify import ShopifyError
    from server.shops.tokens import ShopTokenError

    async def run() -> int:
        pools = await open_pools(config, role="cli")
        code = 0
        try:
            for row in await shops_to_bill(shop):
                try:
                    done = await charge_usage(
                        row, day or yesterday(), services=pools.services, billing=config.billing
                    )
                except (ShopifyError, ShopTokenError) as e:
                    print(f"{row.domain}\tnot charged: {type(e).__name__}")  # noqa: T201
                    code = 1
                    continue
                print(  # noqa: T201
                    f"{done.shop}\t{done.day.isoformat()}\trecorded={done.recorded or '-'}\t"
                    f"sent={done.sent}\theld={done.held}\tfailed={done.failed}\t"
                    f"pending={done.left_pending}"
                )
                if done.left_pending or done.failed:
                    code = 1
        finally:
            await close_pools(pools)
        return code

    return asyncio.run(run())


def _backup_or_restore(config: Config, command: str, path: Path) -> int:
    from server.backup import BackupError, dump, has_tables, restore, server_major
    from server.embedded import EmbeddedPostgres
    from server.processes import AlreadyRunning, InstanceLock

    with ExitStack() as stack:
        url = config.database.url
        if not url:
            # The embedded database: only while no all-in-one runs on it.
            try:
                stack.enter_context(InstanceLock(config.app.var_dir / INSTANCE_LOCK))
            except AlreadyRunning as e:
                print(  # noqa: T201
                    f"{command}: the all-in-one (pid {e.pid or '?'}) runs on VAR_DIR="
                    f"{config.app.var_dir}; stop it first",
                    file=sys.stderr,
                )
                return 2
            url = stack.enter_context(EmbeddedPostgres(config.app.var_dir)).url
        try:
            major = asyncio.run(server_major(url))
            if command == "backup":
                dump(url, path, major=major)
            elif asyncio.run(has_tables(url)):
                raise BackupError(
                    "the target database already holds tables; restore into an empty one"
                )
            else:
                restore(url, path, major=major)
        except (BackupError, OSError) as e:
            print(f"{command} failed: {e}", file=sys.stderr)  # noqa: T201
            return 1
    log.info("%s done: %s", command, path)
    return 0


def _worker_check(config: Config) -> int:
    from actors.heartbeat import check_heartbeats

    healthy, line = check_heartbeats(config.app.var_dir)
    print(line)  # noqa: T201
    return 0 if healthy else 1


def _worker(config: Config) -> int:
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    argv = [
        "actors.worker_main",
        "--processes",
        str(config.broker.processes),
        "--threads",
        str(config.broker.threads),
        "--skip-logging",
        "--worker-shutdown-timeout",
        str(int(config.app.shutdown_timeout_s * 1000)),
    ]
    if config.broker.queues:
        argv += ["--queues", *config.broker.queues]
    log.info(
        "starting worker pool",
        extra={
            "processes": config.broker.processes,
            "threads": config.broker.threads,
            "queues": list(config.broker.queues) or "all",
        },
    )
    code: Any = dramatiq_main(make_argument_parser().parse_args(argv))  # type: ignore[no-untyped-call]
    return int(code or 0)


def _serve(config: Config) -> int:
    from server.web.serve import serve, web_processes

    return serve(config, processes=web_processes(config))


def _all_in_one(config: Config, env: dict[str, str]) -> int:

    from server.embedded import EmbeddedPostgres, EmbeddedRedis
    from server.processes import AlreadyRunning, InstanceLock, die_with_parent

    # Signals are handled by the web loop; until then, turn them into a clean exit.
    def early_exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, early_exit)
    var_dir = config.app.var_dir
    lock = InstanceLock(var_dir / INSTANCE_LOCK)
    try:
        lock.acquire()
    except AlreadyRunning as e:
        print(  # noqa: T201
            f"another all-in-one (pid {e.pid or '?'}) is already running with VAR_DIR={var_dir}; "
            "stop it first, or set VAR_DIR to another directory",
            file=sys.stderr,
        )
        return 2
    with ExitStack() as stack:
        stack.callback(lock.release)
        database_url, redis_url = config.database.url, config.redis.url
        if not database_url:
            database_url = stack.enter_context(EmbeddedPostgres(var_dir)).url
        if not redis_url:
            redis_url = stack.enter_context(EmbeddedRedis(var_dir)).url
        config = config.with_stores(database_url=database_url, redis_url=redis_url)
        _migrate_database(database_url)

        worker_env = {**env, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        worker = subprocess.Popen(
            [sys.executable, "-m", "server", "worker"],
            env=worker_env,
            # Its own session: Ctrl-C reaches only us, and we stop the pool in order (web
            # first, then workers, then the stores). If we die without doing so (SIGKILL),
            # the kernel kills it too, and its worker processes follow (OrphanGuard): a
            # graceful stop is pointless once the stores it needs are going down with us,
            # and unacknowledged messages are redelivered.
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGKILL),  # noqa: PLW1509  (see server/processes.py)
            stdin=subprocess.DEVNULL,
        )
        # The pool stops beside the web processes, from the same signal: the whole tree is
        # down within app.shutdown_timeout_s + 5 s (the stores, which both need, last).
        pool = WorkerPoolStop(worker, timeout_s=config.app.shutdown_timeout_s + 5)
        stack.callback(pool.wait)

        def ready(url: str) -> None:
            print(f"Shopify app backend running at {url} (Ctrl-C to stop)", flush=True)  # noqa: T201

        from server.web.serve import serve, web_processes

        return serve(
            config,
            processes=web_processes(config),
            on_ready=ready,
            on_stop=pool.begin,
            env=worker_env,
        )


class WorkerPoolStop:
    """The all-in-one's worker pool: SIGTERM once (`begin`, from the web's stop signal, or
    `wait` if nothing called it), then at most `timeout_s` from then before SIGKILL."""

    def __init__(self, worker: subprocess.Popen[bytes], *, timeout_s: float) -> None:
        self.worker = worker
        self.timeout_s = timeout_s
        self._deadline: float | None = None

    def begin(self) -> None:
        """Ask the pool to stop (safe in a signal handler; a repeat does nothing)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.timeout_s
            if self.worker.poll() is None:
                self.worker.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        """Until the pool has stopped; killed (its whole group) at the deadline."""
        self.begin()
        assert self._deadline is not None
        try:
            self.worker.wait(max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker pool did not stop in time; killing it")
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(5)
        log.info("worker pool stopped", extra={"exit_code": self.worker.returncode})
