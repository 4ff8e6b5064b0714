"""The merchant's privacy requests: list them and download each customer's export."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from models import ComplianceRequest
from server.inputs import Parameters
from server.pagination import (
    BIGINT_MAX,
    CURSOR,
    LIMIT,
    InvalidCursorError,
    decode_cursor,
    encode_cursor,
)
from server.problem import Problem
from server.web import keys
from server.web.responses import json_response

MAX_ID = BIGINT_MAX  # ids are BIGINT: anything larger is no id of ours


def _encode_cursor(last_id: int) -> str:
    return encode_cursor("cr", last_id)


def _decode_cursor(cursor: str) -> int:
    try:
        (last_id,) = decode_cursor("cr", cursor, [(1, MAX_ID)])
    except InvalidCursorError:
        raise Problem(400, "cursor is not one this API returned", title="Invalid cursor") from None
    return last_id


# GET /api/compliance/requests's query: parsed here, documented from here (server/openapi.py).
LIST_QUERY = Parameters(
    (LIMIT, replace(CURSOR, then=lambda cursor: _decode_cursor(cursor) if cursor else None))
)


def _item(request: ComplianceRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "topic": request.topic,
        "status": request.status,
        "data_request_id": request.data_request_id,
        "customer": {
            "id": request.customer_id,
            "email": request.customer_email,
            "phone": request.customer_phone,
        },
        "orders_requested": request.orders_requested,
        "requested_at": request.requested_at,
        "due_at": request.due_at,
        "completed_at": request.completed_at,
        "export_url": f"/api/compliance/requests/{request.id}/export"
        if request.status == "completed"
        else None,
    }


async def list_requests(request: web.Request) -> web.Response:
    """The shop's compliance requests, newest first, cursor-paginated."""
    shop = request[keys.SHOP]
    given = LIST_QUERY.parse(request.query)
    limit, before = given["limit"], given["cursor"]
    query = ComplianceRequest.filter(shop_id=shop.id)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1].id) if len(rows) > limit else None
    return json_response({"items": [_item(r) for r in page], "next_cursor": next_cursor})


async def download_export(request: web.Request) -> web.Response:
    """One completed request's export, as a JSON attachment."""
    shop = request[keys.SHOP]
    try:
        request_id = int(request.match_info["request_id"])
    except ValueError:
        request_id = 0
    if not 0 < request_id <= MAX_ID:
        raise Problem(404, "no such compliance request")
    row = await ComplianceRequest.get_or_none(id=request_id, shop_id=shop.id)
    if row is None:
        raise Problem(404, "no such compliance request")
    if row.status == "redacted":
        raise Problem(410, "the customer was redacted since; the export is gone")
    if row.status == "expired":
        raise Problem(410, "the export was deleted after its retention period")
    if row.status != "completed" or row.export is None:
        raise Problem(409, "the export is not built yet", retry_after=60)
    return json_response(
        {**_item(row), "export": row.export},
        headers={"Content-Disposition": f'attachment; filename="data-request-{row.id}.json"'},
    )
