"""What a shop pays through Shopify: its charges (subscriptions, one-time purchases) and the
usage charges the app owes Shopify for metered plans (an outbox: committed before the call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule

if TYPE_CHECKING:
    from models.shop import Shop

CHARGE_SUBSCRIPTION = "subscription"
CHARGE_ONE_TIME = "one_time"

# Shopify's AppSubscriptionStatus / AppPurchaseStatus values this app acts on.
STATUS_ACTIVE = "ACTIVE"
STATUS_PENDING = "PENDING"
STATUS_CANCELLED = "CANCELLED"

# A usage charge's life: pending (committed, Shopify not yet confirmed it) -> sent; or held
# (it would pass the cap: never sent); a held charge is rolled into the next day's charge.
USAGE_PENDING = "pending"
USAGE_SENT = "sent"
USAGE_HELD = "held"
USAGE_ROLLED = "rolled"
USAGE_FAILED = "failed"


class BillingCharge(Model):
    """One charge of a shop as Shopify last told us: an app subscription or a one-time
    purchase, with its plan, status, test flag, trial and period, and its usage line."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="billing_charges", on_delete=fields.CASCADE
    )
    shop_id: int
    kind = fields.CharField(max_length=16)  # CHARGE_SUBSCRIPTION | CHARGE_ONE_TIME
    # gid://shopify/AppSubscription/... or gid://shopify/AppPurchaseOneTime/...
    charge_gid = fields.CharField(max_length=255, unique=True)
    plan = fields.CharField(max_length=64, null=True)  # our plan handle; None: not ours
    name = fields.CharField(max_length=255)
    status = fields.CharField(max_length=16)
    # None: not read from Shopify yet (a status webhook of a charge we had not stored); it
    # counts as a test charge until the reconciliation reads it.
    test = fields.BooleanField(null=True)
    amount = fields.DecimalField(max_digits=14, decimal_places=4, null=True)
    currency = fields.CharField(max_length=8, null=True)
    trial_days = fields.IntField(default=0)
    trial_ends_at = fields.DatetimeField(null=True)
    current_period_end = fields.DatetimeField(null=True)
    usage_line_item_gid = fields.CharField(max_length=255, null=True)
    capped_amount = fields.DecimalField(max_digits=14, decimal_places=4, null=True)
    balance_used = fields.DecimalField(max_digits=14, decimal_places=4, null=True)
    approaching_cap_at = fields.DatetimeField(null=True)  # the approaching-capped webhook
    shopify_created_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    # What the merchant pays: nothing of a customer; removed with the shop.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "billing_charges"
        indexes = (("shop", "kind", "status"),)


class BillingUsageCharge(Model):
    """One day's usage charge of a metered plan, committed before Shopify is called.

    `idempotency_key` (shop, period, day) is sent as appUsageRecordCreate's idempotencyKey:
    a retry after a crash, or a second worker, gets Shopify's first answer back instead of
    a second charge. `events` is the period's pixel events through `day`; `amount` what this
    charge adds to what the period's earlier charges carry.
    """

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="billing_usage_charges", on_delete=fields.CASCADE
    )
    shop_id: int
    charge_gid = fields.CharField(max_length=255)
    line_item_gid = fields.CharField(max_length=255)
    period_end = fields.DateField()
    day = fields.DateField()
    events = fields.BigIntField()
    billable_events = fields.BigIntField()
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=8)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    state = fields.CharField(max_length=16, default=USAGE_PENDING)
    usage_record_gid = fields.CharField(max_length=255, null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "billing_usage_charges"
        unique_together = (("shop", "period_end", "day"),)
        indexes = (("state", "created_at"),)
