"""A stored delivery's metadata as handlers get it: its id, event id, when it happened.

Handlers read the times with server/webhook_topics.py's `requested_at`.
"""

from __future__ import annotations

from typing import Any


def delivery_meta(row: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a `webhook_deliveries` row, as JSON-friendly values."""
    return {
        # The intake's commit order: a later delivery's id is higher (server/webhook_topics.py,
        # `in_order`).
        "id": row["id"],
        "event_id": row["event_id"],
        "webhook_id": row["webhook_id"],
        "triggered_at": row["triggered_at"].isoformat() if row["triggered_at"] else None,
        "received_at": row["received_at"].isoformat(),
    }
