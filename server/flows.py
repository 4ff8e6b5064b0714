"""The composition root of the flows: importing it registers every flow's part in the
shared registries, whatever was imported before.

The registries live below the flows (server/webhook_topics.py: TOPICS;
server/uninstall_steps.py: UNINSTALL_STEPS; server/redact_steps.py:
CUSTOMER_REDACT_STEPS; server/sweep.py: RESEND_STEPS,
RETENTION_STEPS; server/db.py: AFTER_MIGRATIONS; server/registry.py's handler registries
of the proxy, extension and Flow surfaces); each flow fills them in at import, and no flow
imports another. The entry points import this module first: the app factory
(server/web/app.py), the workers (actors/broker.py), the CLI (server/cli.py) and the tests
(tests/conftest.py). `tests/test_layers.py` checks that every module that registers
something is listed here.
"""

from __future__ import annotations

import server.billing.state
import server.ext.handlers
import server.flow.actions
import server.pixel.extension
import server.pixel.partitions
import server.pixel.pipeline
import server.privacy.requests
import server.proxy.handlers
import server.shops.uninstall
import server.sync.changes
import server.sync.runs
import server.webhooks.upkeep  # noqa: F401
