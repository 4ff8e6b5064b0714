"""RFC 9457 problem details: the one shape every error response takes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"


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
    body = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


class Problem(Exception):
    """An HTTP error a handler raises; the error middleware renders it as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = headers
        self.detail = detail
        self.title = title
        self.type_ = type_
        self.extra = extra

    def response(self) -> web.Response:
        """This problem as a response."""
        return problem_response(
            self.status,
            self.detail,
            title=self.title,
            type_=self.type_,
            headers=self.headers,
            **self.extra,
        )
