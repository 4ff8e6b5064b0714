"""The durable intake of Flow action runs: group-committed to the outbox, then a worker woken.

As webhook deliveries (server/webhooks/intake.py): `POST /flow/actions/{handle}` answers
200 only once its run is committed in `flow_action_runs`; the broker hears of it after the
commit, with a message of ids that only wakes a worker; the sweeper re-sends a run that is
still pending after `outbox.stale_after_s`. Flow resends a run with the same
`action_run_id`: the copy is a duplicate, committed nowhere, answered 200.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import OperationalError

from server.actor_names import APPLY_FLOW_ACTIONS
from server.groupcommit import (
    CommitConnections,
    CommitLost,
    GroupCommitter,
    ShuttingDownError,
    resolving_loss,
)
from server.store_errors import STORE_DOWN_ERRORS
from server.wake import Waker

STORE_TIMEOUT_S = 3.0
DB_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    *STORE_DOWN_ERRORS,
    OperationalError,
    ShuttingDownError,
    CommitLost,
)
log = logging.getLogger(__name__)

_RECORD_SQL = """
INSERT INTO flow_action_runs (shop_domain, handle, action_run_id, action_definition_id,
                              payload, received_at, state, attempts, next_attempt_at,
                              duplicates)
SELECT u.shop, u.handle, u.run_id, u.definition_id, u.payload, $6::timestamptz, 'pending', 0,
       $6::timestamptz + make_interval(secs => $7), 0
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     AS u(shop, handle, run_id, definition_id, payload)
ON CONFLICT (action_run_id) DO NOTHING
RETURNING id, action_run_id
"""
# Copies are counted, best effort (a run a worker holds right now is skipped, not waited for).
_COUNT_COPIES_SQL = """
UPDATE flow_action_runs SET duplicates = duplicates + 1
WHERE id IN (SELECT id FROM flow_action_runs WHERE action_run_id = ANY($1::text[])
             FOR UPDATE SKIP LOCKED)
"""


@dataclass(slots=True)
class Run:
    """One run as the edge validated it."""

    shop: str
    handle: str
    action_run_id: str
    action_definition_id: str
    payload: str
    received_at: datetime


_STORED_SQL = """
SELECT id, action_run_id, state FROM flow_action_runs WHERE action_run_id = ANY($1::text[])
"""


async def _flush(
    batch: list[Run], waker: Waker, connections: CommitConnections, stale_after_s: float
) -> Sequence[str]:
    first: dict[str, Run] = {}
    for run in batch:
        first.setdefault(run.action_run_id, run)
    rows = sorted(first.values(), key=lambda r: r.action_run_id)  # one lock order
    run_ids = [r.action_run_id for r in rows]

    async def insert(conn: Any) -> list[Any]:
        return list(
            await conn.fetch(
                _RECORD_SQL,
                [r.shop for r in rows],
                [r.handle for r in rows],
                run_ids,
                [r.action_definition_id for r in rows],
                [r.payload for r in rows],
                batch[0].received_at,
                stale_after_s,
                timeout=STORE_TIMEOUT_S,
            )
        )

    stored: list[Any] = []

    async def all_stored(conn: Any) -> bool:
        stored[:] = await conn.fetch(_STORED_SQL, run_ids, timeout=STORE_TIMEOUT_S)
        return len(stored) == len(run_ids)

    # One autocommit statement on a held connection; a lost answer is resolved by looking
    # the run ids up again (server/groupcommit.py), as the webhook intake does.
    result = await resolving_loss(
        lambda: connections.run(insert),
        probe=all_stored,
        connect=connections.connect,
        what="flow_action_runs",
    )
    if result is None:  # committed, told by the probe: which runs were new is unknown
        result = [r for r in stored if r["state"] == "pending"]
    inserted = {str(r["action_run_id"]): int(r["id"]) for r in result}
    copies = [i for i in run_ids if i not in inserted]
    if copies:
        try:  # best effort: a count, never the run
            await connections.run(
                lambda conn: conn.execute(_COUNT_COPIES_SQL, copies, timeout=STORE_TIMEOUT_S)
            )
        except STORE_DOWN_ERRORS as e:
            log.warning("duplicate flow runs not counted: %s", type(e).__name__)
    if inserted:
        waker.send_ids(APPLY_FLOW_ACTIONS, sorted(inserted.values()))
    outcomes = []
    for run in batch:
        if inserted.pop(run.action_run_id, None) is not None:
            outcomes.append("queued")
        else:
            outcomes.append("duplicate")
    return outcomes


def run_committer(
    waker: Waker, connections: CommitConnections, *, stale_after_s: float
) -> GroupCommitter[Run, str]:
    """The group committer of Flow action runs (started by the caller, closed with it)."""

    async def flush(batch: list[Run]) -> Sequence[str]:
        return await _flush(batch, waker, connections, stale_after_s)

    return GroupCommitter(
        flush,
        interval_s=0.002,
        max_weight=256,
        max_bytes=4 * 1024 * 1024,
        max_flushes=2,
        name="flow-commit",
    )
