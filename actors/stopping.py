"""A worker process stops once, and within a bound, however the stop signal reaches it.

Dramatiq's main process forwards SIGTERM (and SIGINT, as SIGTERM) to its worker processes.
When the whole process group is signalled (systemd's default `KillMode=control-group`, an
init that signals the group, `kill -TERM -<pgid>`), each worker process gets SIGTERM twice:
from the group and from the main process. Dramatiq's own handler (dramatiq/cli.py,
`worker_process`) takes a second SIGTERM as "kill now" and raises SystemExit in the middle
of the graceful stop, and the process never exits: the AsyncIO middleware's event-loop
thread is not a daemon and nobody stops it any more.

`stop_once` wraps that handler in each worker process: the first stop signal starts
Dramatiq's graceful stop (running messages get `--worker-shutdown-timeout`), a repeat is
ignored, and a process still stopping `deadline_s` after the first signal exits at once.
Nothing is lost by that: a message cut off rolls back with its database connection and
stays pending, and the sweeper sends it again (its broker message, never acknowledged, is
redelivered too).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)

# Dramatiq's exit code for a worker process that was killed.
EXIT_KILLED = 1
# The signals Dramatiq's worker processes stop on (SIGINT they ignore: the main process
# forwards it as SIGTERM).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _exit_now(deadline_s: float) -> None:
    log.warning(
        "worker process still stopping %.0f s after the signal: exiting now; the messages"
        " it was running are sent again by the sweeper",
        deadline_s,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    os._exit(EXIT_KILLED)


def stop_once(*, deadline_s: float) -> bool:
    """In a Dramatiq worker process, wrap its stop-signal handler (see the module docstring);
    False (nothing changed) in any other process."""
    if multiprocessing.parent_process() is None:
        return False  # Dramatiq's main process (or a plain import): its handlers stand
    stopping = threading.Event()

    def wrap(original: Any) -> Any:
        def on_signal(signum: int, frame: Any) -> None:
            if stopping.is_set():
                log.info("already stopping: %s ignored", signal.Signals(signum).name)
                return
            stopping.set()
            timer = threading.Timer(deadline_s, _exit_now, args=(deadline_s,))
            timer.daemon = True
            timer.start()
            original(signum, frame)

        return on_signal

    wrapped = False
    for sig in STOP_SIGNALS:
        original = signal.getsignal(sig)
        if callable(original):
            signal.signal(sig, wrap(original))
            wrapped = True
    return wrapped
