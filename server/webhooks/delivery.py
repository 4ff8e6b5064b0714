"""A stored delivery's metadata as handlers read it: event id, when Shopify triggered it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def delivery_meta(row: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a `webhook_deliveries` row, as JSON-friendly values."""
    return {
        # The intake's commit order: a later delivery's id is higher (server/webhooks/topics.py,
        # `in_order`).
        "id": row["id"],
        "event_id": row["event_id"],
        "webhook_id": row["webhook_id"],
        "triggered_at": row["triggered_at"].isoformat() if row["triggered_at"] else None,
        "received_at": row["received_at"].isoformat(),
    }


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def requested_at(delivery: dict[str, Any] | None) -> datetime:
    """When Shopify triggered the delivery (else when we received it, else now)."""
    delivery = delivery or {}
    return (
        _parse_time(delivery.get("triggered_at"))
        or _parse_time(delivery.get("received_at"))
        or datetime.now(UTC)
    )
