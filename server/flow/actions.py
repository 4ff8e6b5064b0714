"""Flow action handlers (the registry) and applying stored runs.

The web process commits each run in `flow_action_runs` before it answers 200
(server/flow/intake.py) and wakes `apply_flow_actions` with the new ids. A worker claims
each pending run (`FOR UPDATE SKIP LOCKED`), runs the handler registered for its handle and
marks the run done in the same transaction, so the effect and "done" commit together. A
handler that raises leaves the run pending with a backoff (doubling per attempt), or
`failed` after `outbox.max_attempts` (at once for `FlowActionError`, or a handle nothing
handles any more); the sweeper sends again whatever is due.

A handler is `async def handler(run: FlowRun) -> None`; `run.connection` is the claiming
transaction's connection, for writes that must commit with the run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.flow import FLOW_RUN_DONE, FLOW_RUN_FAILED
from server.actor_names import APPLY_FLOW_ACTIONS
from server.config import OutboxConfig
from server.outbox import due_sql, record_failure
from server.registry import HandlerRegistry
from server.store_errors import store_down
from server.sweep import RESEND_STEPS, RETENTION_STEPS, Message, Retention, claim_due, in_batches

log = logging.getLogger(__name__)


class FlowActionError(Exception):
    """A run no retry can fix (bad properties): it ends failed at once."""


@dataclass(frozen=True, slots=True)
class FlowRun:
    """A stored Flow action run, as its handler sees it."""

    id: int
    shop: str
    handle: str
    action_run_id: str
    action_definition_id: str
    properties: dict[str, Any]
    payload: dict[str, Any]  # the whole body Flow sent (shop_id, shopify_domain, ...)
    received_at: datetime
    connection: Any  # the claiming transaction's connection


FlowHandler = Callable[[FlowRun], Awaitable[None]]

FLOW_ACTIONS: HandlerRegistry[str, FlowHandler] = HandlerRegistry("Flow action")


_CLAIM = """
SELECT id, shop_domain, handle, action_run_id, action_definition_id, payload, received_at
FROM flow_action_runs WHERE id = $1 AND state = 'pending'
FOR UPDATE SKIP LOCKED
"""
_DONE = """
UPDATE flow_action_runs SET state = 'done', attempts = attempts + 1, last_error = NULL,
       done_at = now(), next_attempt_at = NULL
WHERE id = $1
"""


async def apply_runs(ids: list[int], *, outbox: OutboxConfig) -> dict[str, int]:
    """Apply each pending run of `ids` once; how many ended in each state.

    A store that is down raises (the message is retried; the rows stay pending).
    """
    outcomes: dict[str, int] = {}
    for run_id in ids:
        outcome = await apply_run(int(run_id), outbox=outbox)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def apply_run(run_id: int, *, outbox: OutboxConfig) -> str:
    """Claim, apply and mark one run: "done", "failed", "retry" or "skipped"."""
    row: dict[str, Any] | None = None
    try:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(_CLAIM, [run_id])
            if not rows:
                return "skipped"  # done already, or another worker holds it now
            row = rows[0]
            handler = FLOW_ACTIONS.get(row["handle"])
            if handler is None:
                raise FlowActionError(f"no handler for the Flow action {row['handle']!r}")
            payload = orjson.loads(row["payload"])
            properties = payload.get("properties")
            await handler(
                FlowRun(
                    id=run_id,
                    shop=row["shop_domain"],
                    handle=row["handle"],
                    action_run_id=row["action_run_id"],
                    action_definition_id=row["action_definition_id"],
                    properties=properties if isinstance(properties, dict) else {},
                    payload=payload,
                    received_at=row["received_at"],
                    connection=conn,
                )
            )
            await conn.execute_query(_DONE, [run_id])
    except Exception as e:
        if store_down(e) or row is None:
            raise
        state = await record_failure(
            "flow_action_runs", run_id, e, permanent=isinstance(e, FlowActionError), outbox=outbox
        )
        log.warning(
            "Flow action failed: %s",
            type(e).__name__,
            extra={"run_id": run_id, "handle": row["handle"], "state": state},
        )
        return "failed" if state == FLOW_RUN_FAILED else "retry"
    return FLOW_RUN_DONE


# The sweeper's part (server/sweep.py): runs still pending past their due time.
_DUE_RUNS = due_sql("flow_action_runs")

# Retention: finished runs past `outbox.dedup_retention_s`, the same bound as webhook
# delivery rows (Flow resends a run well within it).
_PURGE_RUNS = """
DELETE FROM flow_action_runs
WHERE id IN (
    SELECT id FROM (
        SELECT id, received_at, state FROM flow_action_runs ORDER BY id LIMIT $1
    ) oldest  -- ids grow with time: the oldest rows, at the cost of a bounded slice
    WHERE received_at < now() - make_interval(secs => $2) AND state <> 'pending'
)
"""


@RESEND_STEPS.register("flow action runs")
async def due_runs(connection: BaseDBAsyncClient, outbox: OutboxConfig) -> list[Message]:
    """Claim the overdue runs: one message of their ids."""
    rows = await claim_due(connection, _DUE_RUNS, stale_after_s=outbox.stale_after_s)
    return [(APPLY_FLOW_ACTIONS, ([int(r["id"]) for r in rows],))] if rows else []


@RETENTION_STEPS.register("flow action runs")
async def purge_runs(connection: BaseDBAsyncClient, keep: Retention) -> dict[str, int]:
    """Finished runs past their retention."""
    return {
        "flow_runs_deleted": await in_batches(
            connection, _PURGE_RUNS, keep.outbox.dedup_retention_s
        )
    }
