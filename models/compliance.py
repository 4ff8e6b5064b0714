"""Privacy (GDPR) requests: customers' data exports for the merchant, and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule

if TYPE_CHECKING:
    from models.shop import Shop

# Shopify: privacy requests must be completed within 30 days.
COMPLIANCE_DEADLINE_DAYS = 30


class ComplianceRequest(Model):
    """A `customers/data_request`: the customer's export, built for the merchant."""

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="compliance_requests", on_delete=fields.CASCADE
    )
    topic = fields.CharField(max_length=64)
    # The webhook event it came from: the actor's idempotency key.
    event_id = fields.CharField(max_length=255)
    data_request_id = fields.BigIntField(null=True)  # Shopify's data_request.id
    customer_id = fields.BigIntField(null=True)
    customer_email = fields.CharField(max_length=320, null=True)
    customer_phone = fields.CharField(max_length=64, null=True)
    orders_requested: fields.JSONField[list[int]] = fields.JSONField(default=list)
    # pending -> completed; "redacted" once the customer's redaction emptied it.
    status = fields.CharField(max_length=16, default="pending")
    requested_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    export: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    privacy: ClassVar[PrivacyRule] = PrivacyRule(
        shop_field="shop_id",
        customer_fields={"id": "customer_id", "email": "customer_email", "phone": "customer_phone"},
        on_customer_redact="anonymise",
        anonymise={
            "customer_id": None,
            "customer_email": None,
            "customer_phone": None,
            "orders_requested": [],
            "export": None,
            "status": "redacted",
        },
    )

    class Meta:
        table = "compliance_requests"
        table_description = "customers/data_request exports for the merchant, with due dates."
        unique_together = (("shop", "event_id"),)


class PrivacyAudit(Model):
    """That a privacy request was received and completed: no personal data, only counts.

    The one thing of a shop that survives `shop/redact` is its shop/redact row here.
    """

    id = fields.BigIntField(primary_key=True)
    shop_domain = fields.CharField(max_length=255)
    topic = fields.CharField(max_length=64)
    event_id = fields.CharField(max_length=255)
    requested_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    rows_affected: fields.JSONField[dict[str, int]] = fields.JSONField(
        default=dict
    )  # {"table": count}
    note = fields.CharField(max_length=255, default="")

    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_domain", on_shop_redact="keep")

    class Meta:
        table = "privacy_audit"
        table_description = "Privacy requests received and completed (no personal data)."
        unique_together = (("shop_domain", "topic", "event_id"),)


def identity_hash(value: str) -> str:
    """The SHA-256 hex of an identity value; SQL computes the same with sha256(convert_to())."""
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()


class RedactedIdentity(Model):
    """A customer identity a `customers/redact` erased, kept only as a hash.

    Rows still in flight when the redaction ran (queued pixel events, for one) are checked
    against these on arrival, so an erasure is not undone by data that was already on its
    way. Kinds: "email" (lower-cased), "phone", and a table's `linked_by` column
    (e.g. "client_id", the browser a checkout tied to the customer).
    """

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop",
        related_name="redacted_identities",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    kind = fields.CharField(max_length=32)
    value_hash = fields.CharField(max_length=64)
    redacted_at = fields.DatetimeField(auto_now_add=True)

    # Hashes only; gone with the shop.
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "redacted_identities"
        unique_together = (("shop", "kind", "value_hash"),)
