"""The fake's state: shops, tokens, buckets, faults, recorded calls (no HTTP here)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from graphql import GraphQLSchema

from tests.fake_shopify.data import Node, ShopData, gid, iso


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _now() -> str:
    return iso(datetime.now(UTC))


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
    user_id: int | None = None  # the staff member of an online token; None for offline
    deprecated: str | None = None  # the X-Shopify-API-Deprecated-Reason the fake answered


@dataclass
class TokenInfo:
    """An issued access or refresh token."""

    shop: str
    scope: str
    expires_at: float | None
    revoked: bool = False
    user_id: int | None = None  # online tokens: the staff member (associated_user.id)

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
class FakeBilling:
    """One shop's charges: subscriptions and one-time purchases by gid, usage records (with
    the first answer given to each idempotency key), and the webhooks owed to the app."""

    subscriptions: dict[str, Node] = field(default_factory=dict)
    one_time_purchases: dict[str, Node] = field(default_factory=dict)
    usage_records: list[Node] = field(default_factory=list)
    answers_by_key: dict[str, Node] = field(default_factory=dict)
    approaching_sent: set[str] = field(default_factory=set)  # subscription gids


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
    billing: FakeBilling = field(default_factory=FakeBilling)
    # Operation name -> an event the answer waits for (after the operation took effect):
    # Shopify has done the work, the app has not heard back yet.
    answer_gates: dict[str, asyncio.Event] = field(default_factory=dict)
    next_id: int = 900_000


class FakeState:
    """What every part of the fake shares; `FakeShopify` fills it in."""

    api_key: str
    api_secret: str
    restore_rate: float
    bucket_max: float
    access_token_ttl_s: int
    online_token_ttl_s: int
    shops: dict[str, FakeShop]
    tokens: dict[str, TokenInfo]
    refresh_tokens: dict[str, tuple[TokenInfo, str]]  # -> (info, access token)
    codes: dict[str, tuple[str, str]]  # code -> (shop, scope)
    authorize_requests: list[dict[str, str]]
    token_requests: list[dict[str, Any]]
    calls: list[CallRecord]
    invalid_operations: list[tuple[str, list[str]]]
    # Status webhooks (app_subscriptions/update, ...) owed to the app, sent after the call.
    billing_webhooks: list[tuple[str, str, Node]]
    bulk_dir: Path
    schema: GraphQLSchema
    _tmp: tempfile.TemporaryDirectory[str] | None
    _tasks: set[asyncio.Task[None]]

    def _new_id(self, shop: FakeShop, kind: str) -> str:
        shop.next_id += 1
        return gid(kind, shop.next_id)

    def _root(self, shop: FakeShop, origin: str) -> dict[str, Any]:
        """The GraphQL root fields of `shop` (graphql_api.GraphQLEndpoint has them)."""
        raise NotImplementedError
