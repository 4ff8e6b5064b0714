"""Helpers for tests: session tokens as App Bridge makes them, installed shops, real worker
pools, and eventually() (the one poll loop)."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import jwt

from models import Shop
from server.config import Config
from server.security.crypto import TokenCipher

ROOT = Path(__file__).resolve().parent.parent


def make_session_token(
    config: Config,
    shop: str,
    *,
    secret: str | None = None,
    audience: str | None = None,
    iss_shop: str | None = None,
    exp_in_s: int = 60,
    nbf_in_s: int = 0,
    **claims: Any,
) -> str:
    """An HS256 session token with Shopify's claims; options make it wrong on purpose."""
    now = int(time.time())
    payload = {
        "iss": f"https://{iss_shop or shop}/admin",
        "dest": f"https://{shop}",
        "aud": audience if audience is not None else config.shopify.api_key,
        "sub": "42",
        "exp": now + exp_in_s,
        "nbf": now + nbf_in_s,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(payload, secret or config.shopify.api_secret.reveal(), algorithm="HS256")


def bearer(config: Config, shop: str, **options: Any) -> dict[str, str]:
    """Authorization header with a valid (or deliberately wrong) session token."""
    return {"Authorization": f"Bearer {make_session_token(config, shop, **options)}"}


async def install_shop(
    config: Config,
    domain: str,
    *,
    access_token: str | None = None,
    refresh_token: str | None = None,
    expires_in_s: int | None = None,
    scopes: str | None = None,
) -> Shop:
    """An installed shop row with encrypted tokens, as after a real install."""
    cipher = TokenCipher(config.security.token_encryption_keys)
    now = datetime.now(UTC)
    shop, _ = await Shop.update_or_create(
        domain=domain,
        defaults={
            "access_token_enc": cipher.encrypt(access_token or f"shpat_{uuid.uuid4().hex}"),
            "refresh_token_enc": cipher.encrypt(refresh_token) if refresh_token else None,
            "access_token_expires_at": now + timedelta(seconds=expires_in_s)
            if expires_in_s is not None
            else None,
            "scopes": scopes or ",".join(config.shopify.scopes),
            "installed_at": now,
            "uninstalled_at": None,
            "needs_reauth": False,
        },
    )
    return shop


# What every worker subprocess of the run printed: the session checks it for secrets too.
PROCESS_OUTPUTS: list[str] = []


async def authorize(client: Any, fake: Any, shop: str, **install_params: str) -> dict[str, str]:
    """Run /auth/install and the fake's authorize; return the callback query Shopify sends."""
    response = await client.get(
        "/auth/install", params={"shop": shop, **install_params}, allow_redirects=False
    )
    assert response.status == 302, await response.text()
    location = response.headers["Location"]
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(location, allow_redirects=False) as r,
    ):
        assert r.status == 302
        return dict(parse_qsl(urlsplit(r.headers["Location"]).query))


class WorkerProcess:
    """A real `python -m server worker` pool in a subprocess (its own session).

    Tests get one from conftest's `start_worker` factory, which stops it at teardown."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        processes: int = 1,
        threads: int = 2,
        queues: tuple[str, ...] = (),
    ) -> None:
        self.env = {
            **os.environ,
            **env,
            "WORKER_PROCESSES": str(processes),
            "WORKER_THREADS": str(threads),
        }
        self.queues = queues
        self.proc: subprocess.Popen[bytes] | None = None
        self.output = ""
        # A file, not a pipe: a pool that logs more than a pipe holds must never block on
        # a reader that only reads at the end.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())

    def start(self) -> WorkerProcess:
        queues = ["-Q", *self.queues] if self.queues else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "worker", *queues],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def stopped(self) -> bool:
        """stop() (or kill()) has run: the output is kept and the log is closed."""
        return self._log.closed

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code and keeps the output."""
        assert self.proc is not None
        if self.stopped:
            return int(self.proc.returncode)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.seek(0)
        self.output = self._log.read().decode(errors="replace")
        self._log.close()
        PROCESS_OUTPUTS.append(self.output)
        return int(self.proc.returncode)

    def kill(self) -> None:
        """SIGKILL the whole pool (no shutdown of any kind), keeping its output."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.stop()

    async def stop_async(self) -> int:
        """stop() off the event loop: a fake Shopify served by this loop must keep answering
        the worker's in-flight calls while it shuts down gracefully."""
        return await asyncio.to_thread(self.stop)

    def tail(self) -> str:
        """The end of what the pool printed (it is stopped first if it still runs)."""
        self.stop()
        return self.output[-3000:]


def spawn(argv: list[str], *, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    """`argv` from the repository's root in a session (and process group) of its own, as a
    service manager starts it, stdin closed, its output to the file `log`."""
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


# What a poll may watch: it fails at once, with the process's output, once that has exited.
Watched = WorkerProcess | subprocess.Popen[Any] | asyncio.subprocess.Process


def _process_died(process: Watched | None) -> str | None:
    """None while `process` runs; once it has exited, the end of its output."""
    if process is None:
        return None
    if isinstance(process, WorkerProcess):
        return None if process.alive() else process.tail()
    if isinstance(process, asyncio.subprocess.Process):
        return None if process.returncode is None else f"exit code {process.returncode}"
    if process.poll() is None:
        return None
    output = process.communicate()[0] if process.stdout is not None else ""
    text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
    return text[-3000:]


class _Poll:
    """eventually()'s bookkeeping: the deadline, the last miss, a process that must stay
    alive."""

    def __init__(self, what: str, timeout_s: float, process: Watched | None) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.process = process

    def missed(self, last: object) -> None:
        """One try missed: fails if the process died or the deadline passed."""
        died = _process_died(self.process)
        if died is not None:
            raise AssertionError(f"{self.what}: the process died first (last: {last!r}):\n{died}")
        if time.monotonic() >= self.deadline:
            raise AssertionError(f"{self.what}: not within {self.timeout_s:g} s (last: {last!r})")


async def eventually(
    check: Callable[[], Any],
    *,
    what: str,
    timeout_s: float = 60,
    interval_s: float = 0.05,
    process: Watched | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
) -> Any:
    """Poll the effect itself until it holds, and return what `check` returned.

    `check` is a function (sync or async); it holds when it returns something truthy without
    raising AssertionError (so it may be a block of asserts) or one of `ignoring` (a store
    that is still coming back). Fails with `what` and the last miss at the deadline, or at
    once, with the end of its output, if `process` (a worker pool, a server) died."""
    poll = _Poll(what, timeout_s, process)
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
        except (AssertionError, *ignoring) as error:
            poll.missed(error)
        else:
            if value:
                return value
            poll.missed(value)
        await asyncio.sleep(interval_s)


def wait_until(check: Callable[[], Any], **options: Any) -> Any:
    """eventually() for tests without an event loop (a blocking `check` is fine there)."""
    return asyncio.run(eventually(check, **options))


def run_cli(
    *args: str, env: dict[str, str], timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m server ARGS` with the given env on top of ours."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def ready_on(port: int) -> bool:
    """GET /readyz on loopback `port` answers 200 (False while nothing listens there)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return int(r.status) == 200
    except OSError:
        return False


def all_in_one_env(var_dir: Path, port: int) -> dict[str, str]:
    """The environment of an all-in-one under test: no store URLs (embedded stores), one
    small worker pool, development secrets."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BROKER_URL"}
    }
    env.update(
        APP_ENV="development",
        VAR_DIR=str(var_dir),
        PORT=str(port),
        WORKER_PROCESSES="1",
        WORKER_THREADS="1",
    )
    return env


def embedded_base_dir() -> Path:
    """A directory for embedded servers outside pytest's tmp tree.

    pytest resets /tmp/pytest-of-<user> to mode 0700 at every session start; the embedded
    PostgreSQL runs as another user when we are root and must keep traversing its path.
    """
    return Path(tempfile.mkdtemp(prefix="shopify-app-stores-"))


class DatabaseDown:
    """`async with DatabaseDown(url):` the app's database refuses connections and its pool's
    connections are cut; on exit it accepts connections again."""

    def __init__(self, database_url: str) -> None:
        self.server_url, self.name = database_url.rsplit("/", 1)
        self.admin: Any = None

    async def __aenter__(self) -> DatabaseDown:
        import asyncpg

        self.admin = await asyncpg.connect(
            self.server_url.replace("postgres://", "postgresql://", 1) + "/postgres"
        )
        await self.admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.name,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        await self.admin.close()
