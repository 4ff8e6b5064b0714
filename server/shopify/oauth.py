"""Shopify OAuth token endpoint client: code grant, refresh grant, token exchange.

All three POST `{origin}/admin/oauth/access_token` and ask for expiring offline tokens
(`expiring=1`); token exchange may ask for an online (per-staff) token instead, which
expires on its own (`expires_in`, about a day) and names its staff member
(`associated_user`). Secrets and tokens never reach logs, reprs or exception messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

logger = logging.getLogger(__name__)

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE_ACCESS_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105
ONLINE_ACCESS_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105

# Errors meaning the presented code / refresh token / session token can never work again.
_INVALID_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_subject_token"})


@dataclass(frozen=True, slots=True)
class AssociatedUser:
    """The staff member of an online token: what the app keeps of `associated_user` (its
    name, email and locale are not kept)."""

    id: int
    account_owner: bool
    collaborator: bool


@dataclass(frozen=True, slots=True)
class AccessTokenResponse:
    """A token endpoint answer; optional fields are None when Shopify left them out."""

    access_token: str = field(repr=False)
    scope: str
    expires_in: int | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_in: int | None = None
    # Online tokens only.
    associated_user: AssociatedUser | None = None
    associated_user_scope: str | None = None


class OAuthError(Exception):
    """The token endpoint refused or failed; `error` is Shopify's OAuth error code."""

    def __init__(
        self,
        message: str,
        *,
        shop: str,
        grant: str,
        status: int | None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        self.shop = shop
        self.grant = grant
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"{message} (shop={shop}, grant={grant})")


class InvalidGrantError(OAuthError):
    """The code, refresh token or session token is invalid: the shop needs re-auth."""


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


class OAuthClient:
    """Client of `POST {origin}/admin/oauth/access_token`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        api_secret: str,
        admin_origin: str = "https://{shop}",
        timeout_s: float = 10.0,
    ) -> None:
        if "{shop}" not in admin_origin:
            raise ValueError("admin_origin must contain '{shop}'")
        self._session = session
        self._api_key = api_key
        self._api_secret = api_secret
        self._admin_origin = admin_origin.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def __repr__(self) -> str:
        return f"OAuthClient(api_key={self._api_key!r}, admin_origin={self._admin_origin!r})"

    def token_url(self, shop: str) -> str:
        """The token endpoint of `shop`."""
        return f"{self._admin_origin.format(shop=shop)}/admin/oauth/access_token"

    async def exchange_code(self, shop: str, code: str) -> AccessTokenResponse:
        """Authorization-code grant for an expiring offline token."""
        return await self._request(shop, "authorization_code", {"code": code, "expiring": 1})

    async def refresh(self, shop: str, refresh_token: str) -> AccessTokenResponse:
        """Refresh-token grant; the old access and refresh tokens stop working."""
        return await self._request(
            shop,
            "refresh_token",
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
        )

    async def token_exchange(
        self, shop: str, session_token: str, *, online: bool = False
    ) -> AccessTokenResponse:
        """Exchange an App Bridge session token for an expiring offline token, or (online)
        for an online token of the session token's staff member."""
        params: dict[str, Any] = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": session_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": ONLINE_ACCESS_TOKEN_TYPE
            if online
            else OFFLINE_ACCESS_TOKEN_TYPE,
        }
        if not online:
            params["expiring"] = 1
        grant = await self._request(
            shop, "token_exchange_online" if online else "token_exchange", params
        )
        if online and (grant.associated_user is None or not grant.expires_in):
            raise OAuthError(
                "online token answer lacks associated_user or expires_in",
                shop=shop,
                grant="token_exchange_online",
                status=200,
            )
        return grant

    async def _request(self, shop: str, grant: str, params: dict[str, Any]) -> AccessTokenResponse:
        body = {"client_id": self._api_key, "client_secret": self._api_secret, **params}
        try:
            async with self._session.post(
                self.token_url(shop),
                data=orjson.dumps(body),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=self._timeout,
                ssl=True,
            ) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise OAuthError(
                f"token endpoint unreachable: {type(e).__name__}",
                shop=shop,
                grant=grant,
                status=None,
            ) from e
        try:
            payload = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        if status != 200:
            error = payload.get("error")
            error = str(error) if error is not None else None
            description = payload.get("error_description")
            description = str(description) if description is not None else None
            invalid = error in _INVALID_GRANT_ERRORS or (
                # Shopify answers a used/unknown code with invalid_request.
                grant == "authorization_code" and error == "invalid_request" and status == 400
            )
            cls = InvalidGrantError if invalid else OAuthError
            logger.warning("oauth %s for %s refused: HTTP %d %s", grant, shop, status, error)
            raise cls(
                f"token endpoint answered HTTP {status} {error or ''}: {description or ''}".strip(),
                shop=shop,
                grant=grant,
                status=status,
                error=error,
                description=description,
            )
        access_token = payload.get("access_token")
        scope = payload.get("scope")
        if not isinstance(access_token, str) or not access_token or not isinstance(scope, str):
            raise OAuthError(
                "token endpoint answer lacks access_token or scope",
                shop=shop,
                grant=grant,
                status=status,
            )
        refresh_token = payload.get("refresh_token")
        user_scope = payload.get("associated_user_scope")
        return AccessTokenResponse(
            access_token=access_token,
            scope=scope,
            expires_in=_optional_int(payload.get("expires_in")),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            refresh_token_expires_in=_optional_int(payload.get("refresh_token_expires_in")),
            associated_user=_associated_user(payload.get("associated_user")),
            associated_user_scope=user_scope if isinstance(user_scope, str) else None,
        )


def _associated_user(value: Any) -> AssociatedUser | None:
    """The staff member of an online token answer; None when absent or without an id."""
    if not isinstance(value, dict):
        return None
    raw_id = value.get("id")
    # Exact: a user id is an integer (never through float, which rounds big ones).
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        user_id = raw_id
    elif isinstance(raw_id, str) and raw_id.isascii() and raw_id.isdigit():
        user_id = int(raw_id)
    else:
        return None
    return AssociatedUser(
        id=user_id,
        account_owner=value.get("account_owner") is True,
        collaborator=value.get("collaborator") is True,
    )
