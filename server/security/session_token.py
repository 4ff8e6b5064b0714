"""Shopify session tokens (App Bridge id tokens): HS256 JWTs signed with the API secret."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from server.security.hmac import normalize_shop

LEEWAY_S = 10
# Shopify's session tokens live one minute; anything meant to live longer is not one of them.
MAX_LIFETIME_S = 300


class SessionTokenError(Exception):
    """The session token is missing, malformed, badly signed, expired or for another app."""


@dataclass(frozen=True, slots=True)
class SessionToken:
    """The verified claims we use."""

    shop: str
    user_id: str | None
    session_id: str | None
    claims: dict[str, Any]


def staff_user_id(sub: str | None) -> int | None:
    """Shopify's staff user id from an admin session token's `sub` (digits), else None."""
    if sub is None or not sub.isascii() or not sub.isdigit() or len(sub) > 18:
        return None
    return int(sub)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header."""
    if not authorization:
        raise SessionTokenError("missing Authorization: Bearer session token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionTokenError("Authorization must be 'Bearer <session token>'")
    return token.strip()


def decode_session_token(
    token: str, *, api_key: str, secrets: Iterable[str], extension: bool = False
) -> SessionToken:
    """Verify signature, audience, exp/nbf (10 s leeway) and that iss and dest name one shop.

    `extension`: a checkout, customer-account or POS UI extension's token, which has no
    `iss` and whose `dest` may be the bare shop domain (`sub`, when present, is the
    customer's gid); an `iss`, when present, must still name the `dest` shop.
    """
    required = ["exp", "nbf", "dest", "aud"] if extension else ["exp", "nbf", "iss", "dest", "aud"]
    claims: dict[str, Any] | None = None
    last_error = "no secret configured"
    for secret in secrets:
        if not secret:
            continue
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=api_key,
                leeway=LEEWAY_S,
                options={"require": required},
            )
            break
        except jwt.InvalidSignatureError:
            last_error = "signature does not verify"
            continue
        except jwt.ExpiredSignatureError:
            raise SessionTokenError("session token expired") from None
        except jwt.ImmatureSignatureError:
            raise SessionTokenError("session token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise SessionTokenError("session token is for another app (aud)") from None
        except jwt.MissingRequiredClaimError as e:
            raise SessionTokenError(f"session token lacks the {e.claim} claim") from None
        except jwt.InvalidTokenError:
            raise SessionTokenError("session token is malformed") from None
    if claims is None:
        raise SessionTokenError(f"session token rejected: {last_error}")
    # PyJWT accepts an aud list that contains the key; Shopify's libraries want exactly it.
    if claims["aud"] != api_key:
        raise SessionTokenError("session token is for another app (aud)")
    _check_lifetime(claims)
    dest_host = _host(claims["dest"], bare=extension)
    iss_host = _host(claims["iss"], bare=extension) if "iss" in claims else dest_host
    if not dest_host or dest_host != iss_host:
        raise SessionTokenError("session token iss and dest name different shops")
    shop = normalize_shop(dest_host)
    if shop is None:
        raise SessionTokenError("session token dest is not a valid shop domain")
    sub = claims.get("sub")
    sid = claims.get("sid")
    return SessionToken(
        shop=shop,
        user_id=str(sub) if sub is not None else None,
        session_id=str(sid) if sid is not None else None,
        claims=claims,
    )


def _host(value: Any, *, bare: bool) -> str | None:
    """The host of a URL claim (`https://shop`); with `bare`, also a bare host."""
    text = str(value)
    return urlsplit(f"https://{text}" if bare and "://" not in text else text).hostname


def _check_lifetime(claims: dict[str, Any]) -> None:
    exp, nbf, iat = claims["exp"], claims["nbf"], claims.get("iat", claims["nbf"])
    numbers = (exp, nbf, iat)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        raise SessionTokenError("session token exp, nbf and iat must be numbers")
    issued = min(nbf, iat)
    if exp - issued > MAX_LIFETIME_S or exp - time.time() > MAX_LIFETIME_S + LEEWAY_S:
        raise SessionTokenError(
            f"session token lifetime is longer than {MAX_LIFETIME_S} s; not a Shopify session token"
        )
