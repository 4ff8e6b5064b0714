"""Inspecting and replaying the durable intake's failures (`python -m server deliveries`).

Webhook deliveries and pixel aggregations that kept failing end in state `failed` with
their last error. Listing shows them (or the pending backlog); a retry makes them pending
and due now, so the workers' sweeper sends them again within `outbox.sweep_interval_s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tortoise import Tortoise

Kind = Literal["webhook", "pixel"]
KINDS: tuple[Kind, ...] = ("webhook", "pixel")

_LIST = {
    "webhook": """
        SELECT id, shop_domain AS shop, topic AS what, state, attempts, received_at AS at,
               last_error
        FROM webhook_deliveries WHERE state = $1 ORDER BY id LIMIT $2
    """,
    "pixel": """
        SELECT id, shop_id::text AS shop, day::text || ' ' || name AS what, state, attempts,
               created_at AS at, last_error
        FROM pixel_pending WHERE state = $1 ORDER BY id LIMIT $2
    """,
}

_RETRY = {
    "webhook": """
        UPDATE webhook_deliveries
        SET state = 'pending', attempts = 0, next_attempt_at = now(), done_at = NULL
        WHERE state = 'failed' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
          AND payload IS NOT NULL
        RETURNING id
    """,
    "pixel": """
        UPDATE pixel_pending
        SET state = 'pending', attempts = 0,
            created_at = least(created_at, now() - make_interval(secs => $2))
        WHERE state = 'failed' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
        RETURNING id
    """,
}


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of `deliveries list`."""

    kind: Kind
    id: int
    shop: str
    what: str  # the topic, or "<day> <event name>" of a pixel event summary
    state: str
    attempts: int
    at: datetime
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "shop": self.shop,
            "what": self.what,
            "state": self.state,
            "attempts": self.attempts,
            "at": self.at.isoformat(),
            "last_error": self.last_error,
        }


async def list_work(kinds: tuple[Kind, ...], *, state: str, limit: int) -> list[Failure]:
    """Rows of the given kinds in `state` (failed or pending), oldest first."""
    connection = Tortoise.get_connection("default")
    found: list[Failure] = []
    for kind in kinds:
        rows = await connection.execute_query_dict(_LIST[kind], [state, limit])
        found.extend(Failure(kind=kind, **row) for row in rows)
    return found


async def retry_failed(kind: Kind, ids: list[int] | None, *, stale_after_s: float) -> list[int]:
    """Make failed rows (all, or these ids) pending and due now; the ids made so.

    A webhook delivery whose payload was purged cannot be replayed and stays failed.
    """
    connection = Tortoise.get_connection("default")
    params: list[Any] = [ids]
    if kind == "pixel":
        params.append(stale_after_s)  # due for the sweeper at once
    rows = await connection.execute_query_dict(_RETRY[kind], params)
    return [int(r["id"]) for r in rows]
