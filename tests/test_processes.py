"""Process hygiene: children die with the all-in-one, Ctrl-C stops the tree, one instance
per VAR_DIR."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from server.embedded import free_port
from server.processes import AlreadyRunning, InstanceLock
from tests.helpers import all_in_one_env, embedded_base_dir, ready_on, wait_until

ROOT = Path(__file__).resolve().parent.parent


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pids: set[int], timeout_s: float, what: str) -> None:
    """Every pid in `pids` has exited within timeout_s (polling the process table)."""

    def all_gone() -> bool:
        alive = sorted(p for p in pids if not _gone(p))
        assert not alive, f"still running: {alive}"
        return True

    wait_until(all_gone, what=what, timeout_s=timeout_s)


def test_instance_lock_is_exclusive_and_names_the_holder(tmp_path):
    path = tmp_path / "var" / "all-in-one.lock"
    with InstanceLock(path):
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(path).acquire()
        assert caught.value.pid == str(os.getpid())
    with InstanceLock(path):  # released: free again
        pass


def test_instance_lock_of_a_killed_holder_does_not_block(tmp_path):
    path = tmp_path / "all-in-one.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from server.processes import InstanceLock; "
            f"InstanceLock(__import__('pathlib').Path({str(path)!r})).acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning):
            InstanceLock(path).acquire()
    finally:
        holder.kill()
        holder.communicate()
    with InstanceLock(path):  # the kernel dropped the dead holder's lock
        pass


def test_a_child_dies_with_a_parent_killed_by_sigkill():
    """die_with_parent: SIGKILL the parent (no chance to clean up); its child still stops."""
    parent_code = textwrap.dedent(
        """
        import subprocess, sys, time
        from server.processes import die_with_parent
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                 start_new_session=True, preexec_fn=die_with_parent())
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert not _gone(child)
    parent.kill()
    parent.communicate()
    _wait_gone({child}, 10, "the child gone with its SIGKILLed parent")


def _start_all_in_one(env: dict[str, str]) -> subprocess.Popen[str]:
    # Its own session and process group, as a shell gives a foreground job.
    return subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen[str], port: int) -> set[int]:
    wait_until(
        lambda: ready_on(port),
        what="the all-in-one ready",
        timeout_s=90,
        interval_s=0.25,
        process=proc,
    )
    return {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}


@pytest.mark.slow
def test_all_in_one_lock_sigkill_and_ctrl_c(secrets_env):
    """One all-in-one per VAR_DIR (the second: one line, exit 2); SIGKILL of the first takes
    its workers and stores with it; the next one starts in the same VAR_DIR, and a Ctrl-C
    (SIGINT to its process group, as a terminal sends it) stops the whole tree."""
    base = embedded_base_dir()
    port = free_port()
    env = all_in_one_env(base / "var", port)
    first = _start_all_in_one(env)
    third: subprocess.Popen[str] | None = None
    try:
        tree = _wait_ready(first, port)
        assert len(tree) >= 4  # postgres (+ its children), redis, worker master + worker

        second = subprocess.run(
            [sys.executable, "-m", "server"],
            cwd=ROOT,
            env={**env, "PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert second.stdout == ""
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {first.pid}" in lines[0] and "already running" in lines[0]

        first.kill()  # SIGKILL: no handler runs
        first.wait()
        # Not communicate(): a survivor would hold the output pipe open forever.
        assert first.stdout is not None
        first.stdout.close()
        _wait_gone(tree, 30, "nothing left behind after SIGKILL")

        third = _start_all_in_one(env)
        tree = _wait_ready(third, port)
        os.killpg(third.pid, signal.SIGINT)  # Ctrl-C
        output, _ = third.communicate(timeout=90)
        assert third.returncode == 0, output[-3000:]
        _wait_gone(tree, 10, "nothing left behind after Ctrl-C")
    finally:
        for proc in (first, third):
            if proc is not None and proc.returncode is None:
                proc.kill()
                proc.wait()
            if proc is not None and proc.stdout is not None:
                proc.stdout.close()
