"""Process hygiene of the all-in-one: children that die with it, one instance per `var/`.

- `die_with_parent(sig)` is a `preexec_fn`: the kernel sends `sig` to the child when the
  process that started it dies, even by SIGKILL (Linux `PR_SET_PDEATHSIG`). It runs after
  Popen's `user=` switch, which would otherwise clear the setting. It only calls prctl,
  getppid and kill (no locks, no imports, no allocation worth the name), which is why a
  preexec_fn is acceptable here despite threads (ruff PLW1509). Popen must be called from
  the thread that lives as long as the child should: the signal follows the parent
  *thread*.
- `InstanceLock` is an advisory `flock` on a file in `var/`: the kernel drops it when the
  holder dies, however it dies, so a stale file never blocks the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int, *, parent: int) -> None:
    """Ask the kernel for `sig` when our parent (pid `parent`) dies; no-op off Linux."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    # The parent may have died before the call: then nobody would send it.
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec_fn that asks the kernel for `sig` when this process dies (None off Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        # Inlined (no calls into other Python code): this runs between fork and exec.
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return preexec


class AlreadyRunning(Exception):
    """Another process holds the instance lock."""

    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"{path} is held by pid {pid or '?'}")
        self.path = path
        self.pid = pid


class InstanceLock:
    """`with InstanceLock(var_dir / "all-in-one.lock"):` or AlreadyRunning."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting; write our pid into the file for the next one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            pid = ""
            with contextlib.suppress(OSError):
                pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise AlreadyRunning(self.path, pid) from None
            raise
        # os.open's descriptors are not inherited (PEP 446): no child can keep the lock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays; its content is only a hint)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
