"""Shopify Flow action runs as received: the dedup key (action_run_id) and the outbox."""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.contrib.postgres.indexes import PostgreSQLIndex
from tortoise.models import Model

from models.privacy import PrivacyRule

# A run's life, as a webhook delivery's: pending (committed, waiting for a worker; retried
# while it fails) -> done (its handler's effect committed), or failed (gave up).
FLOW_RUN_PENDING = "pending"
FLOW_RUN_DONE = "done"
FLOW_RUN_FAILED = "failed"


class FlowActionRun(Model):
    """One Flow action run; unique on Flow's `action_run_id` (Flow resends with the same id).

    The row is the outbox: the web process commits the whole request (properties included)
    before it answers 200, and a worker claims the pending row, runs the action's handler
    and marks it done in the same transaction.
    """

    id = fields.BigIntField(primary_key=True)
    shop_domain = fields.CharField(max_length=255)
    handle = fields.CharField(max_length=255)
    action_run_id = fields.CharField(max_length=255, unique=True)
    action_definition_id = fields.CharField(max_length=255, default="")
    # The raw JSON body as Flow signed it.
    payload = fields.TextField()
    received_at = fields.DatetimeField()
    state = fields.CharField(max_length=16, default=FLOW_RUN_PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=255, null=True)  # never logged
    next_attempt_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)
    duplicates = fields.IntField(default=0)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_domain")

    class Meta:
        table = "flow_action_runs"
        table_description = "Every Shopify Flow action run received: the dedup key and the outbox."
        indexes = (
            ("shop_domain", "received_at"),
            PostgreSQLIndex(
                fields=("next_attempt_at",),
                condition={"state": FLOW_RUN_PENDING},
                name="idx_flow_action_runs_due",
            ),
        )
