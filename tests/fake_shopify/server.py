"""The fake Shopify: many shops under `/{shop}/admin/...`, OAuth, GraphQL Admin API.

Tests drive it through the `FakeShopify` object (seed shops, issue/revoke tokens, inject
faults, read recorded calls and mutation state) and reach it over real HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import orjson
from aiohttp import web
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)

from tests.fake_shopify.data import Node, ShopData, generate_shop_data, gid, iso
from tests.fake_shopify.engine import (
    CostCalculator,
    ExecContext,
    bulk_lines,
    field_resolver,
    filter_nodes,
    type_resolver,
)
from tests.fake_shopify.registry import ISSUED_SECRETS
from tests.fake_shopify.schema import admin_schema

logger = logging.getLogger(__name__)

INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
MAX_QUERY_COST = 1000
CODE_NOT_FOUND = "The authorization code was not found or was already used"
REFRESH_INVALID = "The refresh token is invalid, expired or was already used"
ACCESS_TOKEN_TTL_S = 3600
REFRESH_TOKEN_TTL_S = 7_776_000
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


PIXEL_EXTENSION_TOML = (
    Path(__file__).resolve().parents[2] / "extensions" / "web-pixel" / "shopify.extension.toml"
)


def _matches_pixel_settings(settings: dict[str, Any]) -> bool:
    """Shopify checks webPixelCreate/Update settings against the extension's settings
    definition: exactly its fields, each a string meeting its `min` length."""
    import tomllib

    fields = tomllib.loads(PIXEL_EXTENSION_TOML.read_text())["settings"]["fields"]
    if set(settings) != set(fields):
        return False
    for name, spec in fields.items():
        value = settings[name]
        minimum = next(
            (int(v["value"]) for v in spec.get("validations", []) if v["name"] == "min"), 0
        )
        if not isinstance(value, str) or len(value) < minimum:
            return False
    return True


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _count(items: list[Node], args: dict[str, Any]) -> Node:
    """Shopify's Count: capped at `limit` (default 10000; null for none), precision says so."""
    limit = args.get("limit", 10_000)
    matched = len(filter_nodes(items, args.get("query")))
    if limit is not None and matched > limit:
        return {"__typename": "Count", "count": limit, "precision": "AT_LEAST"}
    return {"__typename": "Count", "count": matched, "precision": "EXACT"}


def _now() -> str:
    return iso(datetime.now(UTC))


def sign_query(params: dict[str, str], secret: str) -> str:
    """Shopify's OAuth query HMAC: hex HMAC-SHA256 of sorted `k=v&...` without `hmac`."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class Fault:
    """One injected answer for the next GraphQL call of a shop."""

    status: int | None = None  # None: answer normally (after delay_s)
    retry_after: str | None = None
    delay_s: float = 0.0
    body: Any = None


@dataclass
class CallRecord:
    """One GraphQL call as the fake saw it."""

    shop: str
    at_s: float  # time.monotonic()
    operation: str | None
    version: str
    status: int
    requested: int | None = None
    actual: int | None = None
    throttled: bool = False
    available_after: float | None = None


@dataclass
class TokenInfo:
    """An issued access or refresh token."""

    shop: str
    scope: str
    expires_at: float | None
    revoked: bool = False

    def valid(self) -> bool:
        """Neither revoked nor expired."""
        return not self.revoked and (self.expires_at is None or time.time() < self.expires_at)


@dataclass
class Bucket:
    """Shopify's leaky bucket for one app on one shop."""

    maximum: float
    restore_rate: float
    available: float
    updated_at_s: float = field(default_factory=time.monotonic)

    def refill(self) -> float:
        """Current points after restoring since the last update."""
        now = time.monotonic()
        self.available = min(
            self.maximum, self.available + (now - self.updated_at_s) * self.restore_rate
        )
        self.updated_at_s = now
        return self.available

    def status(self) -> dict[str, float]:
        """`throttleStatus` as Shopify reports it."""
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(int(self.refill())),
            "restoreRate": float(self.restore_rate),
        }


@dataclass
class FakeShop:
    """State of one shop."""

    domain: str
    data: ShopData
    bucket: Bucket
    webhooks: dict[str, Node] = field(default_factory=dict)
    pixel: Node | None = None
    bulk_operations: dict[str, Node] = field(default_factory=dict)
    bulk_outcome: str | None = None  # "FAILED" | "CANCELED" | "EXPIRED" for the next bulk op
    bulk_gate: asyncio.Event | None = None  # set it to let held bulk ops finish
    faults: deque[Fault] = field(default_factory=deque)
    # userErrors the next web pixel mutation answers with (e.g. a settings schema mismatch).
    pixel_user_errors: list[Node] = field(default_factory=list)
    next_id: int = 900_000


class FakeShopify:
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
        self.shops: dict[str, FakeShop] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, tuple[TokenInfo, str]] = {}  # -> (info, access token)
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (shop, scope)
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.calls: list[CallRecord] = []
        self.invalid_operations: list[tuple[str, list[str]]] = []
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
        return app

    # --- OAuth ------------------------------------------------------------------------

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
        return _json(self._issue(shop, scope, expiring=expiring))

    # --- GraphQL ----------------------------------------------------------------------

    def _record(self, record: CallRecord) -> CallRecord:
        self.calls.append(record)
        return record

    async def _graphql(self, request: web.Request) -> web.Response:
        shop_domain = request.match_info["shop"]
        version = request.match_info["version"]
        shop = self.shops.get(shop_domain)
        if shop is None:
            return _json({"errors": "Not Found"}, 404)
        info = self.tokens.get(request.headers.get("X-Shopify-Access-Token", ""))
        if info is None or info.shop != shop_domain or not info.valid():
            self._record(CallRecord(shop_domain, time.monotonic(), None, version, 401))
            return _json(INVALID_TOKEN_BODY, 401)
        if shop.faults:
            fault = shop.faults.popleft()
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                self._record(CallRecord(shop_domain, time.monotonic(), None, version, fault.status))
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                body = fault.body if fault.body is not None else {"errors": "Internal error"}
                return _json(body, fault.status, headers)
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        variables = payload.get("variables") or {}
        answer, record = self._run(
            shop, query, variables, version, origin=str(request.url.origin())
        )
        self._record(record)
        return _json(answer)

    def _run(
        self, shop: FakeShop, query: str, variables: dict[str, Any], version: str, *, origin: str
    ) -> tuple[dict[str, Any], CallRecord]:
        record = CallRecord(shop.domain, time.monotonic(), None, version, 200)
        try:
            document = parse(query)
        except GraphQLError as e:
            self.invalid_operations.append((query, [e.message]))
            return {"errors": [e.formatted]}, record
        errors = validate(self.schema, document)
        operation = next(
            (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
        )
        record.operation = operation.name.value if operation and operation.name else None
        if errors or operation is None:
            self.invalid_operations.append((query, [e.message for e in errors]))
            return {"errors": [e.formatted for e in errors]}, record
        calculator = CostCalculator(self.schema, document, variables)
        requested = calculator.operation_cost(operation)
        record.requested = requested
        bucket = shop.bucket
        if requested > MAX_QUERY_COST:
            return {
                "errors": [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query max "
                        f"cost limit ({MAX_QUERY_COST}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": requested,
                            "maxCost": MAX_QUERY_COST,
                        },
                    }
                ],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": requested,
                        "actualQueryCost": None,
                        "throttleStatus": bucket.status(),
                    }
                },
            }, record
        if bucket.refill() < requested:
            record.throttled = True
            record.available_after = bucket.available
            return {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": requested,
                        "actualQueryCost": None,
                        "throttleStatus": bucket.status(),
                    }
                },
            }, record
        bucket.available -= requested
        result = execute_sync(
            self.schema,
            document,
            root_value=self._root(shop, origin),
            context_value=ExecContext(),
            variable_values=variables,
            field_resolver=field_resolver,
            type_resolver=type_resolver,
        )
        actual = min(requested, calculator.operation_cost(operation, result.data or {}))
        bucket.available = min(bucket.maximum, bucket.available + requested - actual)
        record.actual = actual
        record.available_after = bucket.available
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["data"] = result.data
        answer["extensions"] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status(),
            }
        }
        return answer, record

    # --- root fields ------------------------------------------------------------------

    def _new_id(self, shop: FakeShop, kind: str) -> str:
        shop.next_id += 1
        return gid(kind, shop.next_id)

    def _root(self, shop: FakeShop, origin: str) -> dict[str, Any]:
        data = shop.data

        def by_id(items: list[Node]) -> Any:
            return lambda info, id: next((n for n in items if n["id"] == id), None)

        return {
            "shop": data.shop,
            "products": data.products,
            "orders": data.orders,
            "customers": data.customers,
            "productsCount": lambda info, **a: _count(data.products, a),
            "ordersCount": lambda info, **a: _count(data.orders, a),
            "customersCount": lambda info, **a: _count(data.customers, a),
            "product": by_id(data.products),
            "order": by_id(data.orders),
            "customer": by_id(data.customers),
            "webhookSubscriptions": list(shop.webhooks.values()),
            "webhookSubscription": lambda info, id: shop.webhooks.get(id),
            "webPixel": lambda info, id=None: (
                shop.pixel if id is None or (shop.pixel and shop.pixel["id"] == id) else None
            ),
            "bulkOperation": lambda info, id: shop.bulk_operations.get(id),
            "currentBulkOperation": lambda info, type="QUERY": next(
                reversed(shop.bulk_operations.values()), None
            ),
            "bulkOperations": list(shop.bulk_operations.values()),
            "webhookSubscriptionCreate": lambda info, **a: self._webhook_create(shop, **a),
            "webhookSubscriptionUpdate": lambda info, **a: self._webhook_update(shop, **a),
            "webhookSubscriptionDelete": lambda info, **a: self._webhook_delete(shop, **a),
            "webPixelCreate": lambda info, **a: self._pixel_create(shop, **a),
            "webPixelUpdate": lambda info, **a: self._pixel_update(shop, **a),
            "webPixelDelete": lambda info, **a: self._pixel_delete(shop, **a),
            "bulkOperationRunQuery": lambda info, **a: self._bulk_run(shop, origin, **a),
            "bulkOperationCancel": lambda info, **a: self._bulk_cancel(shop, **a),
        }

    # --- webhook subscriptions --------------------------------------------------------

    @staticmethod
    def _uri_error(uri: str | None) -> str | None:
        if not uri:
            return "Address can't be blank"
        parts = urlsplit(uri)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"):
            return None  # the fake lets local test servers receive webhooks
        if uri.startswith(("pubsub://", "arn:aws:events:")):
            return None
        return "Address is invalid"

    def _webhook_create(self, shop: FakeShop, topic: str, webhookSubscription: Node) -> Node:
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        error = self._uri_error(uri)
        if error is None and any(
            w["topic"] == topic and w["uri"] == uri for w in shop.webhooks.values()
        ):
            error = "Address for this topic has already been taken"
        if error:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["webhookSubscription", "uri"], "message": error}],
            }
        now = _now()
        subscription_id = self._new_id(shop, "WebhookSubscription")
        subscription = {
            "__typename": "WebhookSubscription",
            "id": subscription_id,
            "legacyResourceId": subscription_id.rsplit("/", 1)[-1],
            "topic": topic,
            "uri": uri,
            "callbackUrl": uri,
            "format": webhookSubscription.get("format") or "JSON",
            "filter": webhookSubscription.get("filter"),
            "includeFields": webhookSubscription.get("includeFields") or [],
            "metafieldNamespaces": webhookSubscription.get("metafieldNamespaces") or [],
            "apiVersion": {
                "__typename": "ApiVersion",
                "handle": "2026-10",
                "displayName": "2026-10",
                "supported": True,
            },
            "createdAt": now,
            "updatedAt": now,
        }
        shop.webhooks[subscription_id] = subscription
        return {"webhookSubscription": subscription, "userErrors": []}

    def _webhook_update(self, shop: FakeShop, id: str, webhookSubscription: Node) -> Node:
        subscription = shop.webhooks.get(id)
        if subscription is None:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        if uri is not None:
            error = self._uri_error(uri)
            if error:
                return {
                    "webhookSubscription": None,
                    "userErrors": [{"field": ["webhookSubscription", "uri"], "message": error}],
                }
            subscription["uri"] = subscription["callbackUrl"] = uri
        for key in ("filter", "includeFields", "format"):
            if webhookSubscription.get(key) is not None:
                subscription[key] = webhookSubscription[key]
        subscription["updatedAt"] = _now()
        return {"webhookSubscription": subscription, "userErrors": []}

    def _webhook_delete(self, shop: FakeShop, id: str) -> Node:
        if shop.webhooks.pop(id, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    # --- web pixel --------------------------------------------------------------------

    @staticmethod
    def _settings_json(settings: Any) -> str | None:
        # The JSON scalar arrives as a JSON-encoded string (or, leniently, an object).
        if isinstance(settings, str):
            try:
                settings = orjson.loads(settings)
            except orjson.JSONDecodeError:
                return None
        if not isinstance(settings, dict) or not _matches_pixel_settings(settings):
            return None
        return orjson.dumps(settings).decode()

    def _pixel_create(self, shop: FakeShop, webPixel: Node) -> Node:
        if shop.pixel_user_errors:
            errors, shop.pixel_user_errors = shop.pixel_user_errors, []
            return {"webPixel": None, "userErrors": errors}
        if shop.pixel is not None:
            return {
                "webPixel": None,
                "userErrors": [
                    {"code": "TAKEN", "field": ["webPixel"], "message": "Web pixel is taken."}
                ],
            }
        settings = self._settings_json(webPixel.get("settings"))
        if settings is None:
            return {
                "webPixel": None,
                "userErrors": [
                    {
                        "code": "INVALID_SETTINGS",
                        "field": ["webPixel", "settings"],
                        "message": "Settings are invalid.",
                    }
                ],
            }
        shop.pixel = {
            "__typename": "WebPixel",
            "id": self._new_id(shop, "WebPixel"),
            "settings": settings,
        }
        return {"webPixel": shop.pixel, "userErrors": []}

    def _pixel_update(self, shop: FakeShop, id: str, webPixel: Node) -> Node:
        if shop.pixel is None or shop.pixel["id"] != id:
            return {
                "webPixel": None,
                "userErrors": [
                    {"code": "NOT_FOUND", "field": ["id"], "message": "Web pixel not found."}
                ],
            }
        settings = self._settings_json(webPixel.get("settings"))
        if settings is None:
            return {
                "webPixel": None,
                "userErrors": [
                    {
                        "code": "INVALID_SETTINGS",
                        "field": ["webPixel", "settings"],
                        "message": "Settings are invalid.",
                    }
                ],
            }
        shop.pixel["settings"] = settings
        return {"webPixel": shop.pixel, "userErrors": []}

    def _pixel_delete(self, shop: FakeShop, id: str) -> Node:
        if shop.pixel is None or shop.pixel["id"] != id:
            return {
                "deletedWebPixelId": None,
                "userErrors": [
                    {"code": "NOT_FOUND", "field": ["id"], "message": "Web pixel not found."}
                ],
            }
        shop.pixel = None
        return {"deletedWebPixelId": id, "userErrors": []}

    # --- bulk operations --------------------------------------------------------------

    def _bulk_run(self, shop: FakeShop, origin: str, query: str, groupObjects: bool) -> Node:
        if any(op["status"] in ("CREATED", "RUNNING") for op in shop.bulk_operations.values()):
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "code": "OPERATION_IN_PROGRESS",
                        "field": None,
                        "message": "A bulk query operation for this app and shop is already in "
                        "progress.",
                    }
                ],
            }
        try:
            document = parse(query)
        except GraphQLError as e:
            return {
                "bulkOperation": None,
                "userErrors": [{"code": "INVALID", "field": ["query"], "message": e.message}],
            }
        errors = validate(self.schema, document)
        if errors:
            self.invalid_operations.append((query, [e.message for e in errors]))
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"code": "INVALID", "field": ["query"], "message": errors[0].message}
                ],
            }
        operation_id = self._new_id(shop, "BulkOperation")
        operation: Node = {
            "__typename": "BulkOperation",
            "id": operation_id,
            "status": "CREATED",
            "type": "QUERY",
            "query": query,
            "errorCode": None,
            "createdAt": _now(),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
        }
        shop.bulk_operations[operation_id] = operation
        outcome, shop.bulk_outcome = shop.bulk_outcome, None
        task = asyncio.get_running_loop().create_task(
            self._bulk_job(shop, operation, document, origin, outcome)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"bulkOperation": operation, "userErrors": []}

    def _bulk_cancel(self, shop: FakeShop, id: str) -> Node:
        operation = shop.bulk_operations.get(id)
        if operation is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        if operation["status"] in ("CREATED", "RUNNING"):
            operation["status"] = "CANCELING"
        return {"bulkOperation": operation, "userErrors": []}

    async def _bulk_job(
        self, shop: FakeShop, operation: Node, document: Any, origin: str, outcome: str | None
    ) -> None:
        operation["status"] = "RUNNING"
        if shop.bulk_gate is not None:
            await shop.bulk_gate.wait()
        if operation["status"] == "CANCELING" or outcome == "CANCELED":
            operation.update(status="CANCELED", completedAt=_now())
            return
        if outcome == "FAILED":
            operation.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR", completedAt=_now())
            return
        number = operation["id"].rsplit("/", 1)[-1]
        path = self.bulk_dir / f"{shop.domain}-{number}.jsonl"
        counts = await asyncio.to_thread(self._write_bulk_file, shop, document, path)
        if outcome == "EXPIRED":
            operation.update(status="EXPIRED", completedAt=_now())
            return
        operation.update(
            status="COMPLETED",
            completedAt=_now(),
            objectCount=str(counts[0]),
            rootObjectCount=str(counts[1]),
            fileSize=str(path.stat().st_size),
            url=f"{origin}/_bulk/{shop.domain}/{path.name}",
        )

    def _write_bulk_file(self, shop: FakeShop, document: Any, path: Path) -> tuple[int, int]:
        result = execute_sync(
            self.schema,
            document,
            root_value=self._root(shop, ""),
            context_value=ExecContext(bulk=True),
            field_resolver=field_resolver,
            type_resolver=type_resolver,
        )
        objects = roots = 0
        with path.open("wb") as out:
            for line in bulk_lines(result.data or {}):
                objects += 1
                roots += "__parentId" not in line
                out.write(orjson.dumps(line) + b"\n")
        return objects, roots

    async def _bulk_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.bulk_dir / name
        if "/" in name or not name.startswith(request.match_info["shop"]) or not path.is_file():
            return web.Response(status=404, text="NoSuchKey")
        return web.FileResponse(path, headers={"Content-Type": "application/jsonl"})
