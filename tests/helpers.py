"""Helpers for tests: session tokens as App Bridge makes them, installed shops."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from models import Shop
from server.config import Config
from server.security.crypto import TokenCipher


def make_session_token(
    config: Config,
    shop: str,
    *,
    secret: str | None = None,
    audience: str | None = None,
    iss_shop: str | None = None,
    exp_in_s: int = 60,
    nbf_in_s: int = 0,
    **claims: Any,
) -> str:
    """An HS256 session token with Shopify's claims; options make it wrong on purpose."""
    now = int(time.time())
    payload = {
        "iss": f"https://{iss_shop or shop}/admin",
        "dest": f"https://{shop}",
        "aud": audience if audience is not None else config.shopify.api_key,
        "sub": "42",
        "exp": now + exp_in_s,
        "nbf": now + nbf_in_s,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(payload, secret or config.shopify.api_secret.reveal(), algorithm="HS256")


def bearer(config: Config, shop: str, **options: Any) -> dict[str, str]:
    """Authorization header with a valid (or deliberately wrong) session token."""
    return {"Authorization": f"Bearer {make_session_token(config, shop, **options)}"}


async def install_shop(
    config: Config,
    domain: str,
    *,
    access_token: str | None = None,
    refresh_token: str | None = None,
    expires_in_s: int | None = None,
    scopes: str | None = None,
) -> Shop:
    """An installed shop row with encrypted tokens, as after a real install."""
    cipher = TokenCipher(config.security.token_encryption_keys)
    now = datetime.now(UTC)
    shop, _ = await Shop.update_or_create(
        domain=domain,
        defaults={
            "access_token_enc": cipher.encrypt(access_token or f"shpat_{uuid.uuid4().hex}"),
            "refresh_token_enc": cipher.encrypt(refresh_token) if refresh_token else None,
            "access_token_expires_at": now + timedelta(seconds=expires_in_s)
            if expires_in_s is not None
            else None,
            "scopes": scopes or ",".join(config.shopify.scopes),
            "installed_at": now,
            "uninstalled_at": None,
            "needs_reauth": False,
        },
    )
    return shop
