"""Entry module for Dramatiq's worker processes (`python -m server worker` points at it).

Dramatiq imports this in every worker process; it reads the config from the environment
once, sets up logging and the broker, and declares every actor. Its stop signals are
handled once (actors/stopping.py): a worker pool whose whole process group gets SIGTERM
stops like one whose main process does.
"""

from __future__ import annotations

import sys

from actors.broker import setup_broker
from actors.stopping import stop_once
from server.config import ConfigError, load_config
from server.logs import configure_logging

try:
    _config = load_config()
except ConfigError as e:
    print(f"config error: {e}", file=sys.stderr)  # noqa: T201
    raise SystemExit(2) from None

configure_logging(_config.logging, secrets=_config.secret_values())
broker = setup_broker(_config)
# Dramatiq gives running messages the shutdown timeout (server/cli.py passes it); the rest
# of the stop (consumers, pools, the loop) takes about a second more.
stop_once(deadline_s=_config.app.shutdown_timeout_s + 3)
