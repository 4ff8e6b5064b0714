"""The actors that apply stored webhook deliveries: one per queue.

The work itself is server/webhooks/processing.py; which topic wakes which actor is each
topic's row in server/webhook_topics.py, by the names of server/actor_names.py.
"""

from __future__ import annotations

from typing import Any

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from server import actor_names
from server.webhooks.processing import process_deliveries

# A message that could not claim its deliveries (the database is down) is retried by
# Dramatiq a few times; past that the sweeper sends the still-pending ids again.
_PROCESS_OPTIONS: dict[str, Any] = {
    "max_retries": 5,
    "min_backoff": 1_000,
    "max_backoff": 60_000,
    "time_limit": 600_000,
}


async def _process(ids: list[int]) -> None:
    current = resources()
    await process_deliveries(ids, outbox=current.config.outbox, redis=current.redis)


@dramatiq.actor(
    actor_name=actor_names.PROCESS_LIFECYCLE_WEBHOOKS, queue_name="webhooks", **_PROCESS_OPTIONS
)
async def process_lifecycle_webhooks(ids: list[int]) -> None:
    """Apply pending deliveries of the shop's lifecycle and billing topics (app/uninstalled,
    app_subscriptions/*, app_purchases_one_time/update)."""
    await _process(ids)


@dramatiq.actor(
    actor_name=actor_names.PROCESS_PRIVACY_WEBHOOKS, queue_name="privacy", **_PROCESS_OPTIONS
)
async def process_privacy_webhooks(ids: list[int]) -> None:
    """Apply pending deliveries of the mandatory privacy topics."""
    await _process(ids)


@dramatiq.actor(actor_name=actor_names.PROCESS_DATA_WEBHOOKS, queue_name="sync", **_PROCESS_OPTIONS)
async def process_data_webhooks(ids: list[int]) -> None:
    """Apply pending products/orders/customers deliveries to the synced rows."""
    await _process(ids)


@dramatiq.actor(
    actor_name=actor_names.PROCESS_BUSY_DATA_WEBHOOKS, queue_name="sync_busy", **_PROCESS_OPTIONS
)
async def process_busy_data_webhooks(ids: list[int]) -> None:
    """The same, for a shop that floods (a bulk edit): its own queue, consumed beside the
    others, so the flood never stands in front of another shop's deliveries."""
    await _process(ids)
