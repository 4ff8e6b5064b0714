"""What counts as "a store is down" (503 with Retry-After) and what is a bug (500)."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from server.store_errors import store_down
from server.web.middlewares import guard


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        # asyncio's connect when every address of the host failed: a plain OSError.
        OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        # A unix socket that is not there: no file name on a connect's error.
        FileNotFoundError(2, "No such file or directory"),
        TimeoutError(),
        asyncpg.TooManyConnectionsError("too many"),
    ],
)
def test_a_store_that_cannot_be_reached_is_down(error):
    assert store_down(error)
    wrapped = RuntimeError("the query failed")
    wrapped.__cause__ = error
    assert store_down(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(2, "No such file or directory", "/srv/app/templates/home.html"),
        PermissionError(13, "Permission denied", "/srv/app/var/dev-secrets.toml"),
        IsADirectoryError(21, "Is a directory", "/srv/app"),
        ValueError("not a store's"),
    ],
)
def test_a_file_that_cannot_be_read_is_not_a_store_down(error):
    assert not store_down(error)


async def test_a_missing_file_in_a_handler_is_500_not_503():
    async def handler(request: web.Request) -> web.Response:
        raise FileNotFoundError(2, "No such file or directory", "/srv/app/missing.html")

    app = web.Application(middlewares=[guard])
    app.router.add_get("/page", handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/page")
        assert response.status == 500
        assert "Retry-After" not in response.headers
        assert response.content_type == "application/problem+json"
