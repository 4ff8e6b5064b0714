"""Entry module for Dramatiq's worker processes (`python -m server worker` points at it).

Dramatiq imports this in every worker process; it reads the config from the environment
once, sets up logging and the broker, and declares every actor.
"""

from __future__ import annotations

import sys

from actors.broker import setup_broker
from server.config import ConfigError, load_config
from server.logs import configure_logging

try:
    _config = load_config()
except ConfigError as e:
    print(f"config error: {e}", file=sys.stderr)  # noqa: T201
    raise SystemExit(2) from None

configure_logging(_config.logging, secrets=_config.secret_values())
broker = setup_broker(_config)
