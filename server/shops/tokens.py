"""Shops and their Admin API tokens: store a grant, hand out a valid token, refresh once.

Used by the web process (install, token exchange, API handlers) and by workers (sync,
webhook registration), so it depends on neither routes nor actors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_incrementing
from tortoise import Tortoise

from models import OnlineToken, Shop
from server.retry import retry
from server.security.crypto import TokenCipher
from server.shopify.oauth import AccessTokenResponse, InvalidGrantError, OAuthClient, OAuthError
from server.store_errors import store_down

log = logging.getLogger(__name__)

# Refresh when fewer than this remain (Shopify's advice: ~5 minutes before expiry).
REFRESH_MARGIN = timedelta(minutes=5)
# Shopify's offline access tokens live an hour; used when a refresh answer omits expires_in.
DEFAULT_ACCESS_TOKEN_TTL_S = 3600
LOCK_TTL_S = 30.0
LOCK_WAIT_S = 35.0
LOCK_POLL_S = 0.05
STORE_NEW_PAIR_ATTEMPTS = 4
# A refreshed pair is the only copy of the new refresh token: a store hiccup gets 4 tries,
# 0.2, 0.4 then 0.6 s apart; any other error is not retried.
STORING_THE_NEW_PAIR = AsyncRetrying(
    retry=retry_if_exception(store_down),
    stop=stop_after_attempt(STORE_NEW_PAIR_ATTEMPTS),
    wait=wait_incrementing(start=0.2, increment=0.2),
    reraise=True,
)
# An online token with less than this left counts as gone (a call may take that long).
ONLINE_MARGIN = timedelta(seconds=60)


class ShopTokenError(Exception):
    """No usable Admin API token for the shop."""

    def __init__(self, shop: str, reason: str) -> None:
        self.shop = shop
        super().__init__(f"{shop}: {reason}")


class ShopNotInstalledError(ShopTokenError):
    """The shop never installed the app, or uninstalled it."""


class ReauthRequiredError(ShopTokenError):
    """The shop's grant is gone (refresh refused or expired): the merchant must re-auth."""


class TokenRefreshError(ShopTokenError):
    """The refresh failed for a transient reason (network, 5xx); retry later."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _expiry(now: datetime, seconds: int | None) -> datetime | None:
    return now + timedelta(seconds=seconds) if seconds else None


def missing_scopes(requested: tuple[str, ...], granted_csv: str) -> list[str]:
    """Requested scopes the grant lacks (a granted write_X covers a requested read_X)."""
    granted = {s.strip() for s in granted_csv.split(",") if s.strip()}
    missing = []
    for scope in requested:
        if scope in granted:
            continue
        if scope.startswith("read_") and f"write_{scope[5:]}" in granted:
            continue
        if scope.startswith("unauthenticated_read_") and (
            f"unauthenticated_write_{scope[21:]}" in granted
        ):
            continue
        missing.append(scope)
    return missing


@dataclass
class ShopTokens:
    """Stores grants encrypted and gives callers a valid access token, refreshing once."""

    oauth: OAuthClient
    cipher: TokenCipher
    redis: Redis
    _local_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def store_grant(self, shop: str, grant: AccessTokenResponse, *, installing: bool) -> Shop:
        """Upsert the shop with the grant's tokens (encrypted); an install clears uninstall."""
        now = utcnow()
        access_enc = self.cipher.encrypt(grant.access_token)
        refresh_enc = self.cipher.encrypt(grant.refresh_token) if grant.refresh_token else None
        connection = Tortoise.get_connection("default")
        # One statement: a reinstall after uninstall and a first install look the same.
        await connection.execute_query(
            """
            INSERT INTO shops (domain, access_token_enc, refresh_token_enc,
                               access_token_expires_at, refresh_token_expires_at, scopes,
                               needs_reauth, installed_at, uninstalled_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, false, $7, NULL, $7, $7)
            ON CONFLICT (domain) DO UPDATE SET
                access_token_enc = EXCLUDED.access_token_enc,
                refresh_token_enc = EXCLUDED.refresh_token_enc,
                access_token_expires_at = EXCLUDED.access_token_expires_at,
                refresh_token_expires_at = EXCLUDED.refresh_token_expires_at,
                scopes = EXCLUDED.scopes,
                needs_reauth = false,
                installed_at = CASE WHEN $8 OR shops.uninstalled_at IS NOT NULL
                                    OR shops.installed_at IS NULL
                               THEN EXCLUDED.installed_at ELSE shops.installed_at END,
                uninstalled_at = NULL,
                updated_at = EXCLUDED.updated_at
            """,
            [
                shop,
                access_enc,
                refresh_enc,
                _expiry(now, grant.expires_in),
                _expiry(now, grant.refresh_token_expires_in),
                grant.scope,
                now,
                installing,
            ],
        )
        return await Shop.get(domain=shop)

    async def access_token(self, shop: str) -> str:
        """A valid access token for the shop; refreshes (once, under a lock) when near expiry."""
        row = await Shop.get_or_none(domain=shop)
        self._check_usable(shop, row)
        assert row is not None
        if self._fresh(row):
            return self._decrypt_access(row)
        lock = self._local_locks.setdefault(shop, asyncio.Lock())
        async with lock, self._redis_lock(shop):
            # Someone may have refreshed while we waited: read again before refreshing.
            row = await Shop.get_or_none(domain=shop)
            self._check_usable(shop, row)
            assert row is not None
            if self._fresh(row):
                return self._decrypt_access(row)
            return await self._refresh(row)

    async def store_online_grant(self, shop: Shop, grant: AccessTokenResponse) -> OnlineToken:
        """Upsert a staff member's online token (encrypted) with Shopify's expiry and scopes."""
        user = grant.associated_user
        if user is None or not grant.expires_in:
            raise ValueError("not an online token grant (no associated_user or expires_in)")
        now = utcnow()
        connection = Tortoise.get_connection("default")
        # One statement: a second exchange for the same staff member replaces the first.
        await connection.execute_query(
            """
            INSERT INTO online_tokens (shop_id, user_id, access_token_enc, expires_at, scope,
                                       associated_user_scope, account_owner, collaborator,
                                       created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
            ON CONFLICT (shop_id, user_id) DO UPDATE SET
                access_token_enc = EXCLUDED.access_token_enc,
                expires_at = EXCLUDED.expires_at,
                scope = EXCLUDED.scope,
                associated_user_scope = EXCLUDED.associated_user_scope,
                account_owner = EXCLUDED.account_owner,
                collaborator = EXCLUDED.collaborator,
                updated_at = EXCLUDED.updated_at
            """,
            [
                shop.id,
                user.id,
                self.cipher.encrypt(grant.access_token),
                now + timedelta(seconds=grant.expires_in),
                grant.scope,
                grant.associated_user_scope or "",
                user.account_owner,
                user.collaborator,
                now,
            ],
        )
        return await OnlineToken.get(shop_id=shop.id, user_id=user.id)

    async def online_access_token(self, shop: Shop, user_id: int) -> str | None:
        """The staff member's online token while it has over a minute left, else None (an
        expired one is deleted: Shopify has no refresh for online tokens)."""
        row = await OnlineToken.get_or_none(shop_id=shop.id, user_id=user_id)
        if row is None:
            return None
        if row.expires_at - utcnow() <= ONLINE_MARGIN:
            await OnlineToken.filter(id=row.id, access_token_enc=row.access_token_enc).delete()
            return None
        return self.cipher.decrypt(row.access_token_enc)

    async def drop_online_token(self, shop: Shop, user_id: int) -> None:
        """Forget a staff member's online token (Shopify refused it)."""
        await OnlineToken.filter(shop_id=shop.id, user_id=user_id).delete()

    async def mark_needs_reauth(self, shop: str) -> None:
        """Flag the shop: API callers get a clear re-auth error until it installs again."""
        await Shop.filter(domain=shop).update(needs_reauth=True, updated_at=utcnow())
        log.warning("shop needs re-auth", extra={"shop": shop})

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _check_usable(shop: str, row: Shop | None) -> None:
        if row is None or row.uninstalled_at is not None or not row.access_token_enc:
            raise ShopNotInstalledError(shop, "the app is not installed")
        if row.needs_reauth:
            raise ReauthRequiredError(shop, "the shop must authorize the app again")

    @staticmethod
    def _fresh(row: Shop) -> bool:
        # No expiry: a legacy non-expiring offline token, valid until uninstall.
        expires_at = row.access_token_expires_at
        return expires_at is None or expires_at - utcnow() > REFRESH_MARGIN

    def _decrypt_access(self, row: Shop) -> str:
        assert row.access_token_enc is not None
        return self.cipher.decrypt(row.access_token_enc)

    async def _refresh(self, row: Shop) -> str:
        shop = row.domain
        refresh_expired = (
            row.refresh_token_expires_at is not None and row.refresh_token_expires_at <= utcnow()
        )
        if not row.refresh_token_enc or refresh_expired:
            await self.mark_needs_reauth(shop)
            raise ReauthRequiredError(shop, "the access token expired and cannot be refreshed")
        try:
            grant = await self.oauth.refresh(shop, self.cipher.decrypt(row.refresh_token_enc))
        except InvalidGrantError:
            await self.mark_needs_reauth(shop)
            raise ReauthRequiredError(shop, "Shopify refused the refresh token") from None
        except OAuthError as e:
            raise TokenRefreshError(
                shop, f"token refresh failed: {e.status or 'no answer'}"
            ) from None
        now = utcnow()
        # The new pair is stored before anyone uses it; a missing field never blanks the old.
        values = {
            "access_token_enc": self.cipher.encrypt(grant.access_token),
            "access_token_expires_at": now
            + timedelta(seconds=grant.expires_in or DEFAULT_ACCESS_TOKEN_TTL_S),
            "updated_at": now,
        }
        if grant.refresh_token:
            values["refresh_token_enc"] = self.cipher.encrypt(grant.refresh_token)
            values["refresh_token_expires_at"] = _expiry(now, grant.refresh_token_expires_in)
        # Shopify has rotated the pair: the old refresh token is dead, so this write is the
        # only copy of the new one (STORING_THE_NEW_PAIR: a store hiccup gets a few tries).
        try:
            await retry(STORING_THE_NEW_PAIR, Shop.filter(id=row.id).update, **values)
        except Exception as e:
            log.error("refreshed token pair could not be stored for %s: %s", shop, type(e).__name__)
            raise TokenRefreshError(shop, "the refreshed token could not be stored") from None
        log.info("access token refreshed", extra={"shop": shop})
        return grant.access_token

    @contextlib.asynccontextmanager
    async def _redis_lock(self, shop: str) -> AsyncIterator[None]:
        """A cross-process lock around one shop's refresh (redis-py's Lock: SET NX PX,
        released only by its owner)."""
        lock = Lock(
            self.redis,
            f"lock:token-refresh:{shop}",
            timeout=LOCK_TTL_S,
            sleep=LOCK_POLL_S,
            blocking_timeout=LOCK_WAIT_S,
            thread_local=False,
        )
        if not await lock.acquire():
            raise TokenRefreshError(shop, "refresh lock timed out")
        try:
            yield
        finally:
            with contextlib.suppress(LockError):  # expired meanwhile: nothing to give back
                await lock.release()
