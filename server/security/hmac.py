"""Shopify's HMACs: hex over OAuth query strings, base64 over webhook bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


def normalize_shop(value: str | None) -> str | None:
    """The shop domain lower-cased, or None when it is not a valid *.myshopify.com domain."""
    if not value:
        return None
    shop = value.strip().lower()
    return shop if SHOP_DOMAIN_RE.fullmatch(shop) else None


def query_hmac_message(params: Iterable[tuple[str, str]]) -> bytes:
    """`k=v&k=v` of every parameter but `hmac` (and legacy `signature`), sorted by key."""
    pairs = sorted((k, v) for k, v in params if k not in {"hmac", "signature"})
    # surrogatepass: a query can carry any code point; it must hash, not raise.
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")


def sign_query(params: Iterable[tuple[str, str]], secret: str) -> str:
    """The hex HMAC-SHA256 Shopify puts in `hmac` (used by tests and the fake Shopify)."""
    return hmac.new(secret.encode(), query_hmac_message(params), hashlib.sha256).hexdigest()


_HEX_DIGEST_RE = re.compile(r"[0-9a-fA-F]{64}")


def verify_query_hmac(query: Mapping[str, str], secrets: Iterable[str]) -> bool:
    """True when the query's `hmac` matches one of the secrets (constant-time).

    Anything but 64 hex digits cannot match (and compare_digest refuses non-ASCII str).
    """
    given = query.get("hmac", "")
    if not _HEX_DIGEST_RE.fullmatch(given):
        return False
    expected = given.lower().encode()
    items = list(query.items())
    return any(hmac.compare_digest(sign_query(items, s).encode(), expected) for s in secrets if s)


def verify_webhook_hmac(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body."""
    if not header:
        return False
    given = header.strip().encode()
    for secret in secrets:
        if not secret:
            continue
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if hmac.compare_digest(base64.b64encode(digest), given):
            return True
    return False
