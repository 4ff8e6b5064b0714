"""`POST /flow/actions/{handle}`: Shopify Flow runs an action of the app.

Flow signs the raw body like a webhook (`X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 with
the API secret); only a 200 counts as done for Flow, and it resends a run that did not get
one with the same `action_run_id`. So: the HMAC first (401), the body (400), then the run is
committed in PostgreSQL (server/flow/intake.py) before the 200; a copy of a stored run is
200 `duplicate` and does nothing; a database that is down is 503 and Flow sends it again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from server.flow.actions import FLOW_ACTIONS
from server.flow.intake import DB_DOWN_ERRORS, STORE_TIMEOUT_S, Run, run_committer
from server.groupcommit import GroupCommitter
from server.logs import shop_var
from server.problem import Problem
from server.security.hmac import normalize_shop, verify_webhook_hmac
from server.wake import Waker
from server.web import keys
from server.web.committers import committer_ctx
from server.web.limits import limit_verified_shop
from server.web.responses import json_response

log = logging.getLogger(__name__)

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
MAX_ID_CHARS = 255

FLOW_COMMITTER = web.AppKey("flow_committer", GroupCommitter[Run, str])
FLOW_WAKER = web.AppKey("flow_waker", Waker)


def _invalid(detail: str) -> Problem:
    return Problem(400, detail, title="Invalid Flow action request")


def _text(payload: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS or not value.isprintable():
        raise _invalid(f"{name} must be a string of at most {MAX_ID_CHARS} printable characters")
    if required and not value:
        raise _invalid(f"{name} is required")
    return value


async def run_action(request: web.Request) -> web.Response:
    """A Flow action run: 200 once committed (or a duplicate of a stored run)."""
    config = request.app[keys.CONFIG]
    body = await request.read()
    if not verify_webhook_hmac(
        body, request.headers.get(HMAC_HEADER), config.shopify.api_secrets()
    ):
        raise Problem(
            401, f"the {HMAC_HEADER} header is missing or does not verify", title="Invalid HMAC"
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _invalid("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _invalid("the body must be a JSON object")
    shop = normalize_shop(_text(payload, "shopify_domain"))
    if shop is None:
        raise _invalid("shopify_domain must be a *.myshopify.com domain")
    shop_var.set(shop)
    handle = request.match_info["handle"]
    if _text(payload, "handle", required=False) not in {"", handle}:
        raise _invalid("the body's handle is not the URL's")
    if not isinstance(payload.get("properties", {}), dict):
        raise _invalid("properties must be a JSON object")
    run = Run(
        shop=shop,
        handle=handle,
        action_run_id=_text(payload, "action_run_id"),
        action_definition_id=_text(payload, "action_definition_id", required=False),
        payload=body.decode(),
        received_at=datetime.now(UTC),
    )
    await limit_verified_shop(request, "flow", shop)
    if FLOW_ACTIONS.get(handle) is None:
        raise Problem(404, f"no Flow action {handle!r} in this app", title="Unknown action")
    try:
        status = await request.app[FLOW_COMMITTER].submit(run, size=len(body))
    except DB_DOWN_ERRORS as e:
        log.error("Flow action not recorded: database unavailable (%s)", type(e).__name__)
        raise Problem.unavailable("the database is unavailable; the run was not taken") from None
    return json_response({"status": status})


# The group committer of Flow action runs and its waker, for the app's lifetime.
flow_committer_ctx = committer_ctx(
    run_committer,
    committer=FLOW_COMMITTER,
    waker=FLOW_WAKER,
    name="flow-wake",
    timeout_s=STORE_TIMEOUT_S,
)
