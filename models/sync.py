"""One sync run of one resource of one shop: state, checkpoint and counts."""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule


class SyncRun(Model):
    """A full or incremental sync of one resource (products, orders, customers).

    At most one run per (shop, resource) is pending or running: a partial unique index in
    the migration enforces it (`uniq_sync_runs_active`). `cursor` / `bulk_records_done` are
    the checkpoint a resumed run continues from.
    """

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Shop", related_name=False, on_delete=fields.CASCADE
    )
    resource = fields.CharField(max_length=16)
    kind = fields.CharField(max_length=16)  # full | incremental
    mode = fields.CharField(max_length=16, default="")  # paging | bulk, once chosen
    status = fields.CharField(max_length=16, default="pending")
    trigger = fields.CharField(max_length=64, default="")
    group_id = fields.UUIDField()
    since = fields.DatetimeField(null=True)  # incremental: updated_at >= since
    cursor = fields.TextField(null=True)
    bulk_operation_id = fields.CharField(max_length=255, null=True)
    bulk_records_done = fields.BigIntField(default=0)
    max_updated_at = fields.DatetimeField(null=True)  # the watermark this run reached
    fetched = fields.BigIntField(default=0)
    upserted = fields.BigIntField(default=0)
    deleted = fields.BigIntField(default=0)
    pages = fields.BigIntField(default=0)
    resumed = fields.IntField(default=0)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule()

    class Meta:
        table = "sync_runs"
        indexes = (("shop", "resource", "status"), ("group_id",))
