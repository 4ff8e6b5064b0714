"""The fake Shopify: many shops under `/{shop}/admin/...`, OAuth, GraphQL Admin API.

Tests drive it through the `FakeShopify` object (seed shops, issue/revoke tokens, inject
faults, read recorded calls and mutation state) and reach it over real HTTP. The parts:
state.py (shops, tokens, buckets), oauth.py, graphql_api.py (the endpoint and its root
fields), subscriptions.py, web_pixels.py, bulk.py (the mutations' state) and billing.py
(charges, the merchant's approval page, usage records, status webhooks).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fake_shopify.data import generate_shop_data
from tests.fake_shopify.graphql_api import GraphQLEndpoint
from tests.fake_shopify.oauth import (
    ACCESS_TOKEN_TTL_S,
    ONLINE_TOKEN_TTL_S,
    OAuthEndpoints,
    sign_query,
)
from tests.fake_shopify.registry import ISSUED_SECRETS
from tests.fake_shopify.schema import admin_schema
from tests.fake_shopify.state import Bucket, CallRecord, FakeShop, Fault, TokenInfo
from tests.fake_shopify.web_pixels import _matches_pixel_settings

__all__ = [
    "CallRecord",
    "FakeShop",
    "FakeShopify",
    "Fault",
    "_matches_pixel_settings",
    "sign_query",
]


class FakeShopify(OAuthEndpoints, GraphQLEndpoint):
    """State and HTTP app of the fake. Build with `app()`; tests call the methods below."""

    def __init__(
        self,
        *,
        api_key: str = "fake-api-key",
        api_secret: str = "fake-api-secret-0123456789abcdef0123",  # noqa: S107
        restore_rate: float = 100.0,
        bucket_max: float = 2000.0,
        access_token_ttl_s: int = ACCESS_TOKEN_TTL_S,
        bulk_dir: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.restore_rate = restore_rate
        self.bucket_max = bucket_max
        self.access_token_ttl_s = access_token_ttl_s
        self.online_token_ttl_s = ONLINE_TOKEN_TTL_S
        self.shops: dict[str, FakeShop] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, tuple[TokenInfo, str]] = {}  # -> (info, access token)
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (shop, scope)
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.calls: list[CallRecord] = []
        self.invalid_operations: list[tuple[str, list[str]]] = []
        self.billing_webhooks: list[tuple[str, str, dict[str, Any]]] = []
        self.billing_webhook_url: str | None = None  # where billing status webhooks go
        self._tmp = (
            tempfile.TemporaryDirectory(prefix="fake-shopify-") if bulk_dir is None else None
        )
        self.bulk_dir = bulk_dir or Path(self._tmp.name if self._tmp else ".")
        self._tasks: set[asyncio.Task[None]] = set()
        self.schema = admin_schema()
        self.base_url: str | None = None  # set once the server listens

    @property
    def admin_origin(self) -> str:
        """`SHOPIFY_ADMIN_ORIGIN` pointing at this fake, e.g. `http://127.0.0.1:N/{shop}`."""
        if self.base_url is None:
            raise RuntimeError("the fake is not serving yet")
        return f"{self.base_url}/{{shop}}"

    # --- test API ---------------------------------------------------------------------

    def add_shop(
        self,
        domain: str,
        *,
        seed: int = 1,
        products: int = 20,
        variants_per_product: int = 3,
        customers: int = 20,
        orders: int = 20,
        line_items_per_order: int = 2,
        restore_rate: float | None = None,
        bucket_max: float | None = None,
    ) -> FakeShop:
        """Create a shop with seeded data; same arguments give the same data."""
        maximum = bucket_max if bucket_max is not None else self.bucket_max
        shop = FakeShop(
            domain=domain,
            data=generate_shop_data(
                domain,
                seed=seed,
                products=products,
                variants_per_product=variants_per_product,
                customers=customers,
                orders=orders,
                line_items_per_order=line_items_per_order,
            ),
            bucket=Bucket(
                maximum=maximum,
                restore_rate=restore_rate if restore_rate is not None else self.restore_rate,
                available=maximum,
            ),
        )
        self.shops[domain] = shop
        return shop

    def shop(self, domain: str) -> FakeShop:
        """A shop added earlier."""
        return self.shops[domain]

    def issue_token(
        self,
        shop: str,
        *,
        scope: str = "read_products,read_orders,read_customers,write_pixels",
        ttl_s: int | None = None,
    ) -> str:
        """Issue an access token directly (as if OAuth had run)."""
        token = f"shpat_{secrets.token_hex(16)}"
        ISSUED_SECRETS.add(token)
        expires_at = time.time() + ttl_s if ttl_s is not None else None
        self.tokens[token] = TokenInfo(shop=shop, scope=scope, expires_at=expires_at)
        return token

    def revoke_tokens(self, shop: str) -> None:
        """Revoke every access and refresh token of `shop` (e.g. app uninstalled)."""
        for info in self.tokens.values():
            if info.shop == shop:
                info.revoked = True
        for info, _ in self.refresh_tokens.values():
            if info.shop == shop:
                info.revoked = True

    def expire_access_tokens(self, shop: str) -> None:
        """Make every access token of `shop` expired now (refresh tokens stay valid)."""
        for info in self.tokens.values():
            if info.shop == shop:
                info.expires_at = time.time() - 1

    def inject(self, shop: str, *faults: Fault) -> None:
        """Answer the next GraphQL calls of `shop` with these faults, in order."""
        self.shops[shop].faults.extend(faults)

    def calls_for(self, shop: str) -> list[CallRecord]:
        """Recorded GraphQL calls to `shop`."""
        return [c for c in self.calls if c.shop == shop]

    async def close(self) -> None:
        """Stop background bulk jobs and remove result files."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tmp is not None:
            self._tmp.cleanup()

    def app(self) -> web.Application:
        """The aiohttp application serving every shop."""
        app = web.Application()
        app.router.add_get("/{shop}/admin/oauth/authorize", self._authorize)
        app.router.add_post("/{shop}/admin/oauth/access_token", self._access_token)
        app.router.add_post("/{shop}/admin/api/{version}/graphql.json", self._graphql)
        app.router.add_get("/_bulk/{shop}/{name}", self._bulk_file)
        self.billing_routes(app)
        return app
