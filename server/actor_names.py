"""The name of every Dramatiq actor, declared once.

An actor is declared under its name here (`@dramatiq.actor(actor_name=...)` in `actors/`),
and every send goes by that name (server/tasks.py: `send`, `enqueue`; server/wake.py for
wake-ups after a commit), so no module below the actors imports one. The names are part
of the contract: queued messages and `/metrics` carry them, so they never change.
"""

from __future__ import annotations

# actors/system.py
PING = "ping"
# actors/shops.py: what follows an install
SHOP_INSTALLED = "shop_installed"
REGISTER_WEBHOOKS = "register_webhooks"
# actors/sync.py
SYNC_SHOP = "sync_shop"
SYNC_RESOURCE = "sync_resource"
SCHEDULE_INCREMENTAL_SYNCS = "schedule_incremental_syncs"
# actors/webhooks.py: one per queue. The shop's lifecycle and billing topics ("webhooks"),
# the privacy topics ("privacy"), the data topics ("sync"), and a shop's data deliveries
# while it floods (a bulk edit: "sync_busy", consumed beside the others, so one loud
# shop's backlog never stands in front of another shop's).
PROCESS_LIFECYCLE_WEBHOOKS = "process_webhooks"
PROCESS_PRIVACY_WEBHOOKS = "process_privacy_webhooks"
PROCESS_DATA_WEBHOOKS = "process_data_webhooks"
PROCESS_BUSY_DATA_WEBHOOKS = "process_busy_data_webhooks"
# actors/pixel.py
AGGREGATE_PIXEL_INBOX = "aggregate_pixel_inbox"
# actors/billing.py
SCHEDULE_BILLING = "schedule_billing"
BILL_SHOP = "bill_shop"
# actors/flow.py
APPLY_FLOW_ACTIONS = "apply_flow_actions"

# What the scheduler sends once per sync period (actors/scheduler.py).
SCHEDULED = (SCHEDULE_INCREMENTAL_SYNCS, SCHEDULE_BILLING)
