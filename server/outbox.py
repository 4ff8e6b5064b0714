"""What every outbox table shares: a try that failed, recorded with its backoff.

Webhook deliveries and Flow action runs are committed rows a worker claims, applies and
marks done. A try that raises leaves the row pending, due again after a backoff that
doubles per attempt (`outbox.retry_backoff_s` up to `outbox.retry_backoff_max_s`), or
`failed` after `outbox.max_attempts`, or at once for an error no retry can fix.
"""

from __future__ import annotations

from typing import Literal

from tortoise import Tortoise

from server.config import OutboxConfig

OutboxTable = Literal["webhook_deliveries", "flow_action_runs"]

_FAILED = """
UPDATE {table} SET
    attempts = attempts + 1,
    last_error = $2,
    state = CASE WHEN $3 OR attempts + 1 >= $4 THEN 'failed' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => least($5 * power(2, attempts), $6))
WHERE id = $1 AND state = 'pending'
RETURNING state
"""
_FAILED_IN: dict[str, str] = {
    table: _FAILED.format(table=table) for table in ("webhook_deliveries", "flow_action_runs")
}


# The sweeper's claim of pending rows past their due time (server/sweep.py: claim_due):
# pushed back by `$2` seconds, `$1` at most, rows a worker holds skipped.
_DUE = """
UPDATE {table} SET next_attempt_at = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM {table}
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING {returning}
"""


def due_sql(table: OutboxTable, *, returning: str = "id") -> str:
    """The re-send claim of `table`'s pending rows that are due, returning `returning`."""
    return _DUE.format(table=table, returning=returning)


def describe_error(error: BaseException) -> str:
    """What the database keeps of a failure: the type and a short message (never logged)."""
    return f"{type(error).__name__}: {error}"[:255]


async def record_failure(
    table: OutboxTable,
    row_id: int,
    error: BaseException,
    *,
    permanent: bool,
    outbox: OutboxConfig,
) -> str:
    """Record a failed try of a pending row; its state now: "pending" (retried after the
    backoff; also when another worker finished it meanwhile) or "failed"."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        _FAILED_IN[table],
        [
            row_id,
            describe_error(error),
            permanent,
            outbox.max_attempts,
            outbox.retry_backoff_s,
            outbox.retry_backoff_max_s,
        ],
    )
    return str(rows[0]["state"]) if rows else "pending"
