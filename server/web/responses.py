"""JSON and problem+json responses, encoded once with orjson (every handler uses these)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from server.problem import PROBLEM_CONTENT_TYPE, Problem, problem_body


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """`body` as application/json."""
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """A problem+json response with type, title, status and detail."""
    return web.Response(
        status=status,
        body=orjson.dumps(problem_body(status, detail, title=title, type_=type_, **extra)),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def render(problem: Problem) -> web.Response:
    """A raised Problem as its response."""
    return web.Response(
        status=problem.status,
        body=orjson.dumps(problem.body()),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )
