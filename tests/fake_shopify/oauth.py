"""OAuth: the authorize redirect and the token endpoint (code, refresh, token exchange)."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import orjson
from aiohttp import web

from tests.fake_shopify.registry import ISSUED_SECRETS
from tests.fake_shopify.state import FakeState, TokenInfo, _json
from tests.shopify_signing import documented_hmac

CODE_NOT_FOUND = "The authorization code was not found or was already used"
REFRESH_INVALID = "The refresh token is invalid, expired or was already used"
ACCESS_TOKEN_TTL_S = 3600
REFRESH_TOKEN_TTL_S = 7_776_000
ONLINE_TOKEN_TTL_S = 86_399  # what Shopify answers for an online token (about a day)
# What Shopify says a staff member may do, in associated_user_scope (a subset of the app's).
STAFF_SCOPE = "read_products,read_orders"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


def sign_query(params: dict[str, str], secret: str) -> str:
    """Shopify's OAuth query HMAC, as Shopify documents it (tests/shopify_signing.py)."""
    return documented_hmac(dict(params), secret)


class OAuthEndpoints(FakeState):
    """`/{shop}/admin/oauth/authorize` and `/{shop}/admin/oauth/access_token`."""

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        shop = request.match_info["shop"]
        query = dict(request.query)
        self.authorize_requests.append({"shop": shop, **query})
        if shop not in self.shops:
            return web.Response(status=404, text="Not Found")
        if query.get("client_id") != self.api_key or not query.get("redirect_uri"):
            return _json(
                {
                    "error": "invalid_request",
                    "error_description": "Invalid client_id or redirect_uri",
                },
                400,
            )
        code = secrets.token_hex(16)
        self.codes[code] = (shop, query.get("scope", ""))
        store = shop.split(".", maxsplit=1)[0]
        params = {
            "code": code,
            "host": base64.b64encode(f"admin.shopify.com/store/{store}".encode())
            .decode()
            .rstrip("="),
            "shop": shop,
            "state": query.get("state", ""),
            "timestamp": str(int(time.time())),
        }
        params["hmac"] = sign_query(params, self.api_secret)
        redirect = query["redirect_uri"]
        separator = "&" if urlsplit(redirect).query else "?"
        raise web.HTTPFound(f"{redirect}{separator}{urlencode(params)}")

    def _issue(self, shop: str, scope: str, *, expiring: bool) -> dict[str, Any]:
        token = f"shpat_{secrets.token_hex(16)}"
        ISSUED_SECRETS.add(token)
        expires_at = time.time() + self.access_token_ttl_s if expiring else None
        info = TokenInfo(shop=shop, scope=scope, expires_at=expires_at)
        self.tokens[token] = info
        answer: dict[str, Any] = {"access_token": token, "scope": scope}
        if expiring:
            refresh = f"shprt_{secrets.token_hex(16)}"
            ISSUED_SECRETS.add(refresh)
            self.refresh_tokens[refresh] = (
                TokenInfo(shop=shop, scope=scope, expires_at=time.time() + REFRESH_TOKEN_TTL_S),
                token,
            )
            answer |= {
                "expires_in": self.access_token_ttl_s,
                "refresh_token": refresh,
                "refresh_token_expires_in": REFRESH_TOKEN_TTL_S,
            }
        return answer

    async def _access_token(self, request: web.Request) -> web.Response:  # noqa: PLR0911
        shop = request.match_info["shop"]
        if request.content_type == "application/json":
            body = orjson.loads(await request.read() or b"{}")
        else:
            body = dict(await request.post())
        self.token_requests.append(
            {"shop": shop, **{k: v for k, v in body.items() if k != "client_secret"}}
        )
        if shop not in self.shops:
            return web.Response(status=404, text="Not Found")
        if body.get("client_id") != self.api_key or body.get("client_secret") != self.api_secret:
            return _json(
                {"error": "invalid_client", "error_description": "Client credentials are invalid"},
                400,
            )
        expiring = str(body.get("expiring", "0")) == "1"
        grant = body.get("grant_type")
        if grant is None and "code" in body:
            found = self.codes.pop(str(body["code"]), None)
            if found is None or found[0] != shop:
                return _json(
                    {
                        "error": "invalid_request",
                        "error_description": CODE_NOT_FOUND,
                    },
                    400,
                )
            return _json(self._issue(shop, found[1], expiring=expiring))
        if grant == "refresh_token":
            entry = self.refresh_tokens.pop(str(body.get("refresh_token")), None)
            if entry is None or entry[0].shop != shop or not entry[0].valid():
                return _json(
                    {
                        "error": "invalid_grant",
                        "error_description": REFRESH_INVALID,
                    },
                    400,
                )
            info, old_access = entry
            # Rotation: the previous access token stops working.
            if old_access in self.tokens:
                self.tokens[old_access].revoked = True
            return _json(self._issue(shop, info.scope, expiring=True))
        if grant == TOKEN_EXCHANGE:
            return self._token_exchange(shop, body, expiring=expiring)
        return _json(
            {
                "error": "unsupported_grant_type",
                "error_description": f"Unsupported grant_type: {grant}",
            },
            400,
        )

    def _token_exchange(self, shop: str, body: dict[str, Any], *, expiring: bool) -> web.Response:
        if body.get(
            "subject_token_type"
        ) != "urn:ietf:params:oauth:token-type:id_token" or body.get(
            "requested_token_type"
        ) not in (OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE):
            return _json(
                {
                    "error": "invalid_request",
                    "error_description": "Invalid subject or requested token type",
                },
                400,
            )
        try:
            claims = jwt.decode(
                str(body.get("subject_token")),
                self.api_secret,
                algorithms=["HS256"],
                audience=self.api_key,
                leeway=10,
                options={"require": ["exp", "nbf", "iss", "dest", "aud"]},
            )
        except jwt.PyJWTError as e:
            return _json(
                {
                    "error": "invalid_subject_token",
                    "error_description": f"Session token is invalid: {e}",
                },
                400,
            )
        if claims.get("dest") != f"https://{shop}":
            return _json(
                {
                    "error": "invalid_subject_token",
                    "error_description": "Session token is for another shop",
                },
                400,
            )
        scope = "read_products,read_orders,read_customers,write_pixels"
        if body.get("requested_token_type") == ONLINE_TOKEN_TYPE:
            return self._issue_online(shop, scope, claims)
        return _json(self._issue(shop, scope, expiring=expiring))

    def _issue_online(self, shop: str, scope: str, claims: dict[str, Any]) -> web.Response:
        """An online access token for the session token's `sub`, as Shopify answers it."""
        try:
            user_id = int(str(claims.get("sub")))
        except ValueError:
            return _json(
                {"error": "invalid_subject_token", "error_description": "No user in token"}, 400
            )
        token = f"shpua_{secrets.token_hex(16)}"
        ISSUED_SECRETS.add(token)
        ttl_s = self.online_token_ttl_s
        self.tokens[token] = TokenInfo(
            shop=shop, scope=scope, expires_at=time.time() + ttl_s, user_id=user_id
        )
        return _json(
            {
                "access_token": token,
                "scope": scope,
                "expires_in": ttl_s,
                "associated_user_scope": STAFF_SCOPE,
                "session": secrets.token_hex(8),
                "account_number": 0,
                "associated_user": {
                    "id": user_id,
                    "first_name": "Staff",
                    "last_name": "Member",
                    "email": f"staff{user_id}@example.com",
                    "email_verified": True,
                    "account_owner": user_id == 1,
                    "locale": "en",
                    "collaborator": False,
                },
            }
        )
