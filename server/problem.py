"""RFC 9457 problem details: the one shape every error response takes.

Domain code and handlers raise `Problem`; the error middleware renders it
(server/web/responses.py). Nothing here depends on the web framework.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
# What a client is told to wait when a store, the job queue or Shopify is down for now.
RETRY_AFTER_S = 5


def retry_after_header(seconds: float) -> dict[str, str]:
    """The Retry-After header (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def problem_body(
    status: int, detail: str, *, title: str | None = None, type_: str = "about:blank", **extra: Any
) -> dict[str, Any]:
    """A problem+json document: type, title, status and detail (and any extension member)."""
    return {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }


class Problem(Exception):
    """An HTTP error a handler raises; the error middleware renders it as problem+json.

    `retry_after` (seconds) adds a Retry-After header.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        if retry_after is not None:
            headers = {**(headers or {}), **retry_after_header(retry_after)}
        self.status = status
        self.headers = headers
        self.detail = detail
        self.title = title
        self.type_ = type_
        self.extra = extra

    @classmethod
    def unavailable(cls, detail: str, *, retry_after: float = RETRY_AFTER_S) -> Problem:
        """503 with Retry-After: something we depend on is down; nothing was changed."""
        return cls(503, detail, retry_after=retry_after)

    def body(self) -> dict[str, Any]:
        """This problem's problem+json document."""
        return problem_body(
            self.status, self.detail, title=self.title, type_=self.type_, **self.extra
        )
