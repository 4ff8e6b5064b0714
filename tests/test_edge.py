"""The edge against odd and hostile input: content codings, malformed HTTP, slow clients,
rate limits on every route, the CORS policy, session-token lifetime and audience, and the
inputs that used to reach the database (huge ids and cursors, dates at the range's ends)."""

from __future__ import annotations

import gzip
import socket
import time
import uuid
from dataclasses import replace

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.web.cors import EXTENSIONS_ORIGIN
from tests.fake_shopify import webhook_hmac
from tests.helpers import bearer, eventually, install_shop
from tests.served import ServedApp

SHOP = "edge-shop.myshopify.com"
POST_ROUTES = ("/pixel/events", "/webhooks", "/api/sync", "/auth/token-exchange")


async def _problem(response, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body = await response.json(content_type=None)
    assert body["status"] == status and body["detail"]
    return body


def _metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


# ---------------------------------------------------------------- content codings


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_body_that_does_not_decode_is_400_not_500(client, config, path, coding, caplog):
    await install_shop(config, SHOP)
    response = await client.post(
        path,
        data=b"this is not " + coding.encode(),
        headers={
            "Content-Encoding": coding,
            "Content-Type": "application/json",
            **(bearer(config, SHOP) if path.startswith("/api/") else {}),
        },
    )
    if path == "/auth/token-exchange":
        await _problem(response, 401)  # the session token is checked before the body is read
    else:
        body = await _problem(response, 400)
        assert "Content-Encoding" in body["detail"]
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, gzip", "x-unknown"])
async def test_a_coding_the_server_does_not_decode_is_415(client, path, coding):
    response = await client.post(
        path, data=b"{}", headers={"Content-Encoding": coding, "Content-Type": "application/json"}
    )
    body = await _problem(response, 415)
    assert "Content-Encoding" in body["detail"]


async def test_a_gzip_body_is_decoded(client, config):
    from tests.pixel_helpers import envelope, pixel_shop

    _, pixel = await pixel_shop(config)
    body = gzip.compress(orjson.dumps({"accountID": pixel.ingest_key, "events": [envelope()]}))
    response = await client.post("/pixel/events", data=body, headers={"Content-Encoding": "gzip"})
    assert response.status == 202, await response.text()


# ---------------------------------------------------------------- malformed HTTP, slow clients


def _raw(url: str, payload: bytes, *, timeout_s: float = 10) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.fixture
def served(make_config, stub_broker):
    config = make_config()
    limits = replace(config.limits, header_timeout_s=0.5, body_timeout_s=0.5)
    with ServedApp(replace(config, limits=limits), stub_broker) as app:
        yield app


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n", 400),
        (
            b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: 1\r\n" % i for i in range(300))
            + b"\r\n",
            431,
        ),
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
    ],
)
def test_malformed_http_is_problem_json(served, request_bytes, status):
    answer = _raw(served.url, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert orjson.loads(body)["status"] == status


def test_a_client_that_stops_mid_headers_is_cut_off(served):
    # Half a request, then silence: the server closes at the header deadline (recv returns
    # b"" once it does; the socket's own timeout is far longer and would fail the test).
    answer = _raw(served.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Part", timeout_s=30)
    assert answer == b""


@pytest.mark.parametrize("pause_s", [0, 0.2])
def test_a_deflate_body_that_never_ends_is_400_at_once(served, caplog, pause_s):
    # A deflate stream cut short: the parser fails only at the end of the body; a handler
    # already reading it must hear so then, not wait for more body until the deadline. The
    # pause sends the body in a packet of its own (the handler has started by then).
    head = (
        b"POST /pixel/events HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\n"
        b"Content-Length: 3\r\n\r\n"
    )
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        if pause_s:
            time.sleep(pause_s)
        sock.sendall(b"$\x00\x00")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split(b" ")[1] == b"400", answer[:300]
    assert b"application/problem+json" in answer
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


def test_a_client_that_stops_mid_body_is_cut_off(served, caplog):
    answer = _raw(
        served.url,
        b'POST /pixel/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"acc',
        timeout_s=30,
    )
    # Closed at the body deadline: at most a 408 problem, never a held connection.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
    # A client's stall is not an outage: nothing at ERROR (no "store unavailable").
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


def test_a_complete_request_is_not_cut_off(served):
    answer = _raw(served.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")


# ---------------------------------------------------------------- rate limits


def _limited(make_config, **limits):
    config = make_config()
    return replace(config, rate_limits=replace(config.rate_limits, **limits))


async def test_auth_is_limited_per_client_ip(make_client, make_config):
    config = _limited(make_config, auth_ip_per_s=1, auth_ip_burst=5)
    client = await make_client(config)
    statuses = []
    for _ in range(8):
        response = await client.get(
            "/auth/install", params={"shop": "a.myshopify.com"}, allow_redirects=False
        )
        statuses.append(response.status)
    assert statuses[:5] == [302] * 5
    assert statuses[-1] == 429
    body = await _problem(response, 429)
    assert body["limit"] == "auth-ip"
    assert int(response.headers["Retry-After"]) >= 1
    metrics = await (await client.get("/metrics")).text()
    assert _metric(metrics, "http_rate_limited_total", limit="auth-ip") >= 3


async def test_api_is_limited_per_shop_and_other_shops_are_not(make_client, make_config):
    config = _limited(make_config, api_shop_per_s=1, api_shop_burst=4)
    client = await make_client(config)
    await install_shop(config, SHOP)
    await install_shop(config, "other-shop.myshopify.com")
    statuses = [
        (await client.get("/api/products", headers=bearer(config, SHOP))).status for _ in range(6)
    ]
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429
    other = await client.get("/api/products", headers=bearer(config, "other-shop.myshopify.com"))
    assert other.status == 200
    refused = await client.get("/api/products", headers=bearer(config, SHOP))
    body = await _problem(refused, 429)
    assert body["limit"] == "api-shop" and refused.headers["Retry-After"]


async def test_webhook_ceiling_counts_verified_deliveries_only(make_client, make_config):
    config = _limited(make_config, webhook_shop_per_s=1, webhook_shop_burst=3)
    client = await make_client(config)
    secret = config.shopify.api_secret.reveal()

    def delivery(signed: bool) -> dict:
        body = orjson.dumps({"id": 1})
        return {
            "data": body,
            "headers": {
                "X-Shopify-Topic": "shop/update",
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-Event-Id": uuid.uuid4().hex,
                "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret) if signed else "forged",
                "Content-Type": "application/json",
            },
        }

    # Forged deliveries cannot spend the shop's budget...
    for _ in range(10):
        assert (await client.post("/webhooks", **delivery(signed=False))).status == 401
    # ...verified ones do, and past the ceiling the next is refused before it is stored.
    statuses = [(await client.post("/webhooks", **delivery(signed=True))).status for _ in range(3)]
    assert statuses == [200] * 3
    # The charge is made after the answer, by a task of its own (server/web/limits.py's
    # charge_stored): the refusal comes once that task has heard from Redis, so keep
    # sending (20 a second, past the ceiling's 1 a second) until one is refused.

    started = time.monotonic()
    taken_after: list[str] = []
    refused_ids: list[str] = []

    async def refused() -> bool:
        sent = delivery(signed=True)
        status = (await client.post("/webhooks", **sent)).status
        event_id = sent["headers"]["X-Shopify-Event-Id"]
        (refused_ids if status == 429 else taken_after).append(event_id)
        return status == 429

    await eventually(refused, what="a delivery past the ceiling refused", timeout_s=5)
    # Past the burst, no more than the refill (1 a second) got in, plus the one delivery
    # that can arrive before the charge that empties the bucket is known...
    assert len(taken_after) <= 1 + int(time.monotonic() - started) + 1, taken_after
    # ...and what was refused was not stored.
    from models import WebhookDelivery

    assert not await WebhookDelivery.filter(event_id__in=refused_ids).exists()


async def test_a_redis_that_is_down_leaves_fail_open_routes_working(make_client, make_config):
    config = make_config(REDIS_URL="redis://127.0.0.1:1/0")
    client = await make_client(config)
    for _ in range(3):
        response = await client.get(
            "/auth/install", params={"shop": "a.myshopify.com"}, allow_redirects=False
        )
        assert response.status == 302
    health = await client.get("/healthz")
    assert health.status == 200
    metrics = await (await client.get("/metrics")).text()
    assert _metric(metrics, "http_rate_limit_store_errors_total") >= 1


# ---------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    "origin", [EXTENSIONS_ORIGIN, "https://app.example.test", "https://admin.partner.example"]
)
async def test_api_cors_allows_the_apps_own_origins(make_client, make_config, origin):
    config = make_config(CORS_API_ORIGINS="https://admin.partner.example")
    client = await make_client(config)
    await install_shop(config, SHOP)
    preflight = await client.options(
        "/api/products",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    response = await client.get("/api/products", headers={"Origin": origin, **bearer(config, SHOP)})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


async def test_api_cors_refuses_other_origins(client, config):
    await install_shop(config, SHOP)
    preflight = await client.options(
        "/api/products",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    await _problem(preflight, 403)
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = await client.get(
        "/api/products", headers={"Origin": "https://evil.example", **bearer(config, SHOP)}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_other_routes_send_no_cors_headers(client):
    for path in ("/healthz", "/openapi.json", "/auth/install?shop=a.myshopify.com"):
        response = await client.get(
            path, headers={"Origin": EXTENSIONS_ORIGIN}, allow_redirects=False
        )
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


# ---------------------------------------------------------------- session tokens


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"exp_in_s": 365 * 86400}, "lifetime"),
        ({"exp_in_s": 600, "nbf_in_s": 0}, "lifetime"),
        ({"audience": ["test-api-key", "another-app"]}, "aud"),
        ({"audience": ["test-api-key"]}, "aud"),
    ],
)
async def test_session_tokens_shopify_would_not_issue_are_refused(client, config, options, detail):
    await install_shop(config, SHOP)
    assert config.shopify.api_key == "test-api-key"
    response = await client.get("/api/products", headers=bearer(config, SHOP, **options))
    body = await _problem(response, 401)
    assert detail in body["detail"]
    good = await client.get("/api/products", headers=bearer(config, SHOP))
    assert good.status == 200


# ---------------------------------------------------------------- inputs that reached the database


@pytest.mark.parametrize("request_id", [str(2**63), str(2**64), "9" * 40, "-1", "0"])
async def test_compliance_export_ids_out_of_range_are_404(client, config, request_id):
    await install_shop(config, SHOP)
    response = await client.get(
        f"/api/compliance/requests/{request_id}/export", headers=bearer(config, SHOP)
    )
    await _problem(response, 404)


@pytest.mark.parametrize("number", [2**63, 2**64, 10**40, -5, 0])
async def test_compliance_cursors_out_of_range_are_400(client, config, number):
    import base64

    await install_shop(config, SHOP)
    cursor = base64.urlsafe_b64encode(f"cr:{number}".encode()).decode().rstrip("=")
    response = await client.get(
        "/api/compliance/requests", params={"cursor": cursor}, headers=bearer(config, SHOP)
    )
    await _problem(response, 400)


@pytest.mark.parametrize("resource", ["products", "orders", "customers", "transactions"])
@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-14:00",
        "9999-12-31T23:59:59.999999Z",
        "1900-01-01T00:00:00+00:00",
    ],
)
async def test_updated_since_at_the_ends_of_the_range_is_never_503(
    client, config, resource, since, caplog
):
    await install_shop(config, SHOP)
    response = await client.get(
        f"/api/{resource}", params={"updated_since": since}, headers=bearer(config, SHOP)
    )
    assert response.status in {200, 400}, await response.text()
    if response.status == 400:
        await _problem(response, 400)
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


@pytest.mark.parametrize("path", ["/auth/install", "/auth/callback"])
@pytest.mark.parametrize("hmac_value", ["é" * 64, "\u2603", "zz" * 32, "00" * 31 + "é"])
async def test_a_non_ascii_or_non_hex_hmac_is_401(client, path, hmac_value):
    response = await client.get(
        path,
        params={"shop": "a.myshopify.com", "hmac": hmac_value, "timestamp": "1"},
        allow_redirects=False,
    )
    await _problem(response, 401)


def test_a_cookie_that_is_not_utf8_is_a_400_on_auth_routes(served):
    answer = _raw(
        served.url,
        b"GET /auth/install?shop=a.myshopify.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Cookie: shopify_app_session=\xff\xfe\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"Cookie" in body


# ---------------------------------------------------------------- OpenAPI


def test_openapi_documents_the_edge_errors_of_every_operation():
    from server.web.openapi import document

    paths = document()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if method == "options":
                assert {"200", "403"} <= set(responses), (path, method)
                continue
            assert {"400", "408", "429", "431"} <= set(responses), (path, method)
            assert "Retry-After" in responses["429"]["headers"]
            if method == "post":
                assert {"413", "415"} <= set(responses), (path, method)
            if path.startswith("/api/"):
                assert operation["security"] == [{"sessionToken": []}]
                assert {"401", "403", "503"} <= set(responses), (path, method)
                assert "Retry-After" in responses["503"]["headers"]
