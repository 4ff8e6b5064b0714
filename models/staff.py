"""Online (per-staff) Admin API tokens: one per shop and staff member, expiring."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule

if TYPE_CHECKING:
    from models.shop import Shop


class OnlineToken(Model):
    """A staff member's online access token (Fernet ciphertext), as token exchange gave it.

    Only what the app needs to act as that staff member is kept: Shopify's user id, the
    token's expiry and scopes. The user's name, email and locale are not stored.
    """

    id = fields.BigIntField(primary_key=True)
    shop: fields.ForeignKeyRelation[Shop] = fields.ForeignKeyField(
        "models.Shop", related_name="online_tokens", on_delete=fields.CASCADE
    )
    user_id = fields.BigIntField()  # associated_user.id (the session token's `sub`)
    access_token_enc = fields.TextField()
    expires_at = fields.DatetimeField()
    scope = fields.TextField(default="")  # the app's scopes on the token
    associated_user_scope = fields.TextField(default="")  # what this staff member may do
    account_owner = fields.BooleanField(default=False)
    collaborator = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    # shop/redact deletes them; app/uninstalled too (server/shops/uninstall.py).
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

    class Meta:
        table = "online_tokens"
        table_description = "Staff members' online Admin API tokens (Fernet ciphertext)."
        unique_together = (("shop", "user_id"),)
