"""The app factory and its edges: ops endpoints, problem+json, request ids, metrics."""

from __future__ import annotations

import io
import re

import pytest
from aiohttp import web

from server.embedded import free_port
from server.problem import Problem


def _test_routes(app: web.Application) -> None:
    # Routes that exercise the middleware; the real routes come from server/web/routes.py.
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("internal detail: /etc/secret-path")

    async def bad(request: web.Request) -> web.Response:
        raise web.HTTPBadRequest(text="cursor is not valid")

    async def problem(request: web.Request) -> web.Response:
        raise Problem(409, "already running", run_id="r1")

    app.router.add_post("/_test/echo", echo)
    app.router.add_get("/_test/boom", boom)
    app.router.add_get("/_test/bad", bad)
    app.router.add_get("/_test/problem", problem)


async def _assert_problem(response, status: int) -> dict:
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body = await response.json(content_type=None)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert "Traceback" not in await response.text()
    return body


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ok"}


async def test_readyz_checks_every_store(client):
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}


async def test_readyz_is_200_degraded_naming_redis_when_unreachable(make_client, make_config):
    """Redis is only a helper: a load balancer must keep a process that has PostgreSQL."""
    config = make_config(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = await make_client(config)
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"].startswith("degraded: ")
    assert body["checks"]["database"] == "ok"


async def test_readyz_503_names_database_when_unreachable(make_client, make_config):
    config = make_config(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/x")
    client = await make_client(config)
    response = await client.get("/readyz")
    body = await _assert_problem(response, 503)
    assert "database" in body["detail"]
    assert body["checks"]["redis"] == "ok"


async def test_readyz_is_200_degraded_naming_the_broker_when_unreachable(
    aiohttp_client, make_config
):
    from actors.broker import setup_broker
    from server.web.app import create_app

    dead = f"redis://127.0.0.1:{free_port()}/0"
    config = make_config(BROKER_URL=dead)
    broker = setup_broker(config)
    client = await aiohttp_client(create_app(config, broker=broker))
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "redis": "ok", "broker": body["checks"]["broker"]}
    assert body["checks"]["broker"].startswith("degraded: ")


async def test_404_and_405_are_problem_json(client):
    await _assert_problem(await client.get("/no/such/route"), 404)
    await _assert_problem(await client.post("/healthz"), 405)


async def test_413_400_409_500_are_problem_json(make_client, make_config):
    config = make_config()
    client = await make_client(config, setup=_test_routes)
    too_big = b"x" * (config.limits.max_body_bytes + 1)
    await _assert_problem(await client.post("/_test/echo", data=io.BytesIO(too_big)), 413)
    body = await _assert_problem(await client.get("/_test/bad"), 400)
    assert body["detail"] == "cursor is not valid"
    body = await _assert_problem(await client.get("/_test/problem"), 409)
    assert body["run_id"] == "r1"
    response = await client.get("/_test/boom")
    body = await _assert_problem(response, 500)
    assert "secret-path" not in await response.text()
    assert body["request_id"] == response.headers["X-Request-Id"]


async def test_request_id_is_taken_or_made(client):
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = await client.get("/healthz")
    again = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{17,}", made.headers["X-Request-Id"])
    assert made.headers["X-Request-Id"] != again.headers["X-Request-Id"]
    junk = await client.get("/healthz", headers={"X-Request-Id": "x" * 300})
    assert junk.headers["X-Request-Id"] != "x" * 300
    missing = await client.get("/nope", headers={"X-Request-Id": "on-errors-too"})
    assert missing.headers["X-Request-Id"] == "on-errors-too"


async def test_metrics_count_requests_by_route_and_status(client):
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/nope")
    text = await (await client.get("/metrics")).text()
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert "http_request_duration_seconds_bucket" in text


async def test_metrics_count_and_time_the_intake_lanes_requests(client):
    # The lanes add their counts once per turn of the loop (Metrics.tally): each request is
    # in /metrics once its answer is out, in the counter and in the histogram alike.
    for _ in range(3):
        refused = await client.post("/webhooks", data=b"{}")
        assert refused.status == 401
    text = await (await client.get("/metrics")).text()
    assert 'http_requests_total{method="POST",route="/webhooks",status="401"} 3.0' in text
    assert 'http_request_duration_seconds_count{method="POST",route="/webhooks"} 3.0' in text
    assert (
        'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/webhooks"} 3.0'
        in text
    )
    assert "dramatiq_queue_messages" in text


async def test_openapi_documents_every_route(client):
    body = await (await client.get("/openapi.json")).json()
    assert body["openapi"].startswith("3.")
    routes = {
        (route.resource.canonical, route.method.lower())
        for route in client.app.router.routes()
        if route.method not in {"HEAD", "OPTIONS"} and route.resource is not None
    }
    assert len(routes) > 15
    undocumented = sorted(r for r in routes if r[1] not in body["paths"].get(r[0], {}))
    assert not undocumented


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_head_is_allowed_on_probes(client, path):
    assert (await client.head(path)).status == 200


@pytest.mark.slow  # fault injection: the database refuses connections
async def test_a_database_that_is_down_is_503_on_every_route_family(
    client, config, clean_database, redis_client
):
    import orjson

    from tests.helpers import DatabaseDown, bearer, install_shop
    from tests.pixel_helpers import clear_rate_limits, envelope

    await clear_rate_limits(redis_client)
    await install_shop(config, "down-shop.myshopify.com")
    headers = bearer(config, "down-shop.myshopify.com")
    assert (await client.get("/api/products", headers=headers)).status == 200
    async with DatabaseDown(clean_database):
        api = await client.get("/api/products", headers=headers)
        extension = await client.get("/api/extension", headers=headers)
        pixel = await client.post(
            "/pixel/events",
            data=orjson.dumps({"accountID": "not-cached-key", "events": [envelope()]}),
        )
        ready = await client.get("/readyz")
        for response in (api, extension, pixel, ready):
            assert response.status == 503, (response.url, await response.text())
            assert response.headers["Retry-After"]
            assert response.content_type == "application/problem+json"
    assert (await client.get("/api/products", headers=headers)).status == 200
