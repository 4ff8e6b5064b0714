"""The actor that applies stored Shopify Flow action runs (server/flow/actions.py)."""

from __future__ import annotations

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from server.actor_names import APPLY_FLOW_ACTIONS
from server.flow.actions import apply_runs


# A message that could not claim its runs (the database is down) is retried a few times;
# past that the sweeper sends the still-pending ids again.
@dramatiq.actor(
    actor_name=APPLY_FLOW_ACTIONS,
    queue_name="webhooks",
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=600_000,
)
async def apply_flow_actions(ids: list[int]) -> None:
    """Apply pending Flow action runs: the registered handler, then done, in one transaction."""
    await apply_runs(ids, outbox=resources().config.outbox)
