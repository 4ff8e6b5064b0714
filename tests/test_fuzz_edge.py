"""Property tests (Hypothesis) for what the OpenAPI document cannot describe: webhook headers
outside the HMAC, content codings with arbitrary bodies, arbitrary query values. Whatever
comes in, the answer is a 2xx or a 4xx problem+json, never a 5xx, and nothing is logged as
an error.

Deterministic (derandomized, no example database) and sized for CI.
"""

from __future__ import annotations

import http.client
import logging
import time
import uuid
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fake_shopify import webhook_hmac
from tests.helpers import install_shop, make_session_token
from tests.served import ServedApp, unlimited
from tests.shopify_signing import js_app_proxy_signature, query_string

# Hypothesis fuzzing of the edge, hundreds of examples per test
pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# What http.client can put in a header value: Latin-1 without CR, LF or NUL.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)
ANY_TEXT = st.text(max_size=200)


@pytest.fixture
def served(config, stub_broker):
    with ServedApp(unlimited(config), stub_broker) as app:
        yield app


@pytest.fixture
def client(served, request):
    http = Client(served.url)
    yield http
    http.connection.close()
    total = sum(http.statuses.values())
    client_errors = sum(n for s, n in http.statuses.items() if 400 <= s < 500)
    print(
        f"{request.node.name}: {total} requests, {client_errors} 4xx, "
        f"{sum(n for s, n in http.statuses.items() if s >= 500)} 5xx; "
        f"by status {dict(sorted(http.statuses.items()))}"
    )


@pytest.fixture
def no_error_logs(caplog):
    caplog.set_level(logging.WARNING)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


class Client:
    """One keep-alive HTTP/1.1 connection to the served app (reopened when the server closes)."""

    def __init__(self, url: str) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        self.statuses: dict[int, int] = {}

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        try:
            return self._request(method, path, body, headers)
        except (http.client.HTTPException, ConnectionError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            return self._request(method, path, body, headers)

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        self.connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            self.connection.putheader(name, value.encode("latin-1"))
        if body is not None:
            self.connection.putheader("Content-Length", str(len(body)))
        self.connection.endheaders(body)
        response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return response.status, response.getheader("Content-Type", ""), data


def _assert_handled(status: int, content_type: str, body: bytes) -> None:
    assert status < 500, (status, body[:300])
    if status >= 400:
        assert content_type.startswith("application/problem+json"), (status, body[:300])
        problem = orjson.loads(body)
        assert problem["status"] == status and problem["detail"]


def test_webhook_headers_outside_the_hmac_never_cause_a_5xx(served, client, config, no_error_logs):
    secret = config.shopify.api_secret.reveal()
    body = orjson.dumps({"id": 1, "email": "x@example.com"})
    signed = webhook_hmac(body, secret)

    @SETTINGS
    @given(
        topic=st.one_of(
            st.sampled_from(
                [
                    "products/update",
                    "customers/redact",
                    "app/uninstalled",
                    "orders/create",
                    "shop/redact",
                ]
            ),
            HEADER_TEXT,
        ),
        shop=st.one_of(st.just("fuzz-shop.myshopify.com"), HEADER_TEXT),
        event_id=st.one_of(st.uuids().map(str), HEADER_TEXT),
        triggered_at=st.one_of(st.just("2026-11-01T00:00:00.000Z"), HEADER_TEXT),
        api_version=HEADER_TEXT,
        webhook_id=HEADER_TEXT,
        extra=st.dictionaries(st.from_regex(r"\AX-[A-Za-z0-9-]{1,20}\Z"), HEADER_TEXT, max_size=3),
    )
    def check(topic, shop, event_id, triggered_at, api_version, webhook_id, extra) -> None:
        headers = {
            **extra,
            "X-Shopify-Hmac-Sha256": signed,
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": triggered_at,
            "X-Shopify-API-Version": api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "Content-Type": "application/json",
        }
        _assert_handled(*client.request("POST", "/webhooks", body=body, headers=headers))

    check()
    assert sum(client.statuses.values()) >= 500


ROUTES_WITH_BODIES = [
    "/pixel/events",
    "/webhooks",
    "/api/sync",
    "/auth/token-exchange",
    "/flow/actions/any",
    "/proxy/ping",
    "/ext/ping",
]


def test_any_content_coding_and_body_is_handled(served, client, config, no_error_logs):
    shop = f"fuzz-{uuid.uuid4().hex[:8]}.myshopify.com"
    served.run(install_shop(config, shop))

    @SETTINGS
    @given(
        path=st.sampled_from(ROUTES_WITH_BODIES),
        coding=st.one_of(
            st.sampled_from(
                [
                    "gzip",
                    "deflate",
                    "br",
                    "zstd",
                    "identity",
                    "GZIP",
                    " gzip ",
                    "gzip, deflate",
                    "x-gzip",
                    "compress",
                    "",
                ]
            ),
            HEADER_TEXT,
        ),
        body=st.one_of(st.binary(max_size=2000), st.just(b"\x1f\x8b\x08\x00garbage")),
    )
    def check(path, coding, body) -> None:
        headers = {"Content-Type": "application/json", "Content-Encoding": coding}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {make_session_token(config, shop)}"
        _assert_handled(*client.request("POST", path, body=body, headers=headers))

    check()
    assert sum(client.statuses.values()) >= 500


GET_ROUTES = {
    "/api/products": ["limit", "cursor", "updated_since"],
    "/api/orders": ["limit", "cursor", "updated_since"],
    "/api/customers": ["limit", "cursor", "updated_since"],
    "/api/transactions": ["limit", "cursor", "updated_since"],
    "/api/compliance/requests": ["limit", "cursor"],
    "/api/analytics/summary": ["from", "to"],
    "/api/extension": [],
    "/api/sync": [],
    "/auth/install": ["shop", "hmac", "timestamp", "host"],
    "/auth/callback": ["shop", "hmac", "timestamp", "host", "code", "state"],
    "/healthz": [],
    "/openapi.json": [],
    "/proxy/ping": ["shop", "signature", "timestamp", "logged_in_customer_id", "path_prefix"],
    "/ext/ping": [],
}


def test_any_query_value_is_handled(served, client, config, no_error_logs):
    shop = f"fuzz-{uuid.uuid4().hex[:8]}.myshopify.com"
    served.run(install_shop(config, shop))
    values = st.one_of(
        ANY_TEXT,
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.datetimes().map(lambda d: d.isoformat() + "+14:00"),
        st.dates().map(str),
        st.binary(max_size=60).map(lambda b: b.hex()),
    )

    @SETTINGS
    @given(
        path=st.sampled_from(sorted(GET_ROUTES)),
        data=st.data(),
    )
    def check(path: str, data: Any) -> None:
        names = GET_ROUTES[path] + ["x" + data.draw(st.text("abc", max_size=3))]
        params = data.draw(st.dictionaries(st.sampled_from(names), values, max_size=4))
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
        target = f"{path}?{query}" if query else path
        headers = {"Authorization": f"Bearer {make_session_token(config, shop)}"}
        _assert_handled(*client.request("GET", target, headers=headers))

    check()
    assert sum(client.statuses.values()) >= 500


def test_signed_app_proxy_queries_of_any_shape_verify(served, client, config, no_error_logs):
    secret = config.shopify.api_secret.reveal()
    # Keys: letters and brackets, where localeCompare's order is known without ICU; values:
    # any text (the reserved characters, non-ASCII), and repeated keys.
    names = st.from_regex(r"\A[A-Za-z]{1,6}(\[\])?\Z")
    extra_values = st.one_of(ANY_TEXT, st.lists(ANY_TEXT, min_size=2, max_size=3))

    @SETTINGS
    @given(
        extra=st.dictionaries(names, extra_values, max_size=3),
        customer=st.one_of(st.just(""), st.integers(1, 10**12).map(str)),
    )
    def check(extra: dict[str, Any], customer: str) -> None:
        query: dict[str, Any] = {
            k: v
            for k, v in extra.items()
            if k not in {"shop", "signature", "timestamp", "logged_in_customer_id", "path_prefix"}
            and "=" not in k
        }
        query |= {
            "shop": "fuzz-shop.myshopify.com",
            "logged_in_customer_id": customer,
            "path_prefix": "/apps/fuzz",
            "timestamp": str(int(time.time())),
        }
        query["signature"] = js_app_proxy_signature(query, secret)
        pairs = [(k, x) for k, v in query.items() for x in (v if isinstance(v, list) else [v])]
        status, content_type, body = client.request(
            "GET", f"/proxy/ping?{query_string(pairs)}", headers={}
        )
        _assert_handled(status, content_type, body)
        assert status == 200, body
        assert orjson.loads(body) == {
            "shop": "fuzz-shop.myshopify.com",
            "logged_in_customer_id": customer,
        }

    check()


def test_signed_flow_bodies_of_any_shape_are_handled(served, client, config, no_error_logs):
    secret = config.shopify.api_secret.reveal()
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | ANY_TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
        max_leaves=10,
    )
    fields = st.fixed_dictionaries(
        {},
        optional={
            "shopify_domain": st.one_of(st.just("fuzz-shop.myshopify.com"), json_values),
            "action_run_id": st.one_of(st.uuids().map(str), json_values),
            "action_definition_id": json_values,
            "handle": st.one_of(st.just("any"), json_values),
            "properties": json_values,
        },
    )

    @SETTINGS
    @given(body=st.one_of(fields, json_values).map(orjson.dumps))
    def check(body: bytes) -> None:
        headers = {"X-Shopify-Hmac-Sha256": webhook_hmac(body, secret)}
        status, content_type, data = client.request(
            "POST", "/flow/actions/any", body=body, headers=headers
        )
        _assert_handled(status, content_type, data)
        assert status in {400, 404}, data  # no action "any": nothing is ever stored

    check()
