"""An installed (or once installed) shop and its Admin API credentials."""

from __future__ import annotations

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

from models.privacy import PrivacyRule


class Shop(Model):
    """One merchant's store. Tokens are stored only as Fernet ciphertext (`*_enc`)."""

    id = fields.BigIntField(primary_key=True)
    domain = fields.CharField(max_length=255, unique=True)
    # Fernet ciphertext of the offline access token and its refresh token; never plaintext.
    access_token_enc = fields.TextField(null=True)
    refresh_token_enc = fields.TextField(null=True)
    access_token_expires_at = fields.DatetimeField(null=True)
    refresh_token_expires_at = fields.DatetimeField(null=True)
    scopes = fields.TextField(default="")
    name = fields.CharField(max_length=255, default="")
    currency_code = fields.CharField(max_length=8, default="")
    needs_reauth = fields.BooleanField(default=False)
    installed_at = fields.DatetimeField(null=True)
    uninstalled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    # shop/redact deletes the row itself (its PrivacyAudit record remains).
    privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="domain")

    class Meta:
        table = "shops"

    def __str__(self) -> str:
        return self.domain

    @property
    def installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None
