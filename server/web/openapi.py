"""The OpenAPI document of the app's routes (GET /openapi.json).

A route's parameters and body come from the declarations its handler parses them with
(server/inputs.py); the list items from the synced columns (server/sync/columns.py).
"""

from __future__ import annotations

from typing import Any

from server.admin.graphql import GRAPHQL_BODY
from server.billing.http import RETURN_QUERY, SUBSCRIBE_BODY
from server.privacy.http import LIST_QUERY as COMPLIANCE_QUERY
from server.shops.http import EXCHANGE_BODY
from server.sync import columns
from server.sync.http import LIST_QUERY, SYNC_BODY
from server.web.intake_inputs import PIXEL_ENVELOPE, WEBHOOK_HEADERS

PROBLEM: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {
        "application/problem+json": {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "limit": {"type": "string", "description": "on 429: the limit exceeded"},
                },
            }
        }
    },
}
_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "string"}, "description": "seconds to wait"},
}
TOO_MANY = {
    **PROBLEM,
    "description": "Over a rate limit (the body names it); retry after Retry-After seconds",
    "headers": _RETRY_AFTER,
}
UNAVAILABLE = {
    **PROBLEM,
    "description": "A store or the job queue is down; nothing changed; retry after Retry-After",
    "headers": _RETRY_AFTER,
}


def _json(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


_REDIRECT = {"description": "redirect", "headers": {"Location": {"schema": {"type": "string"}}}}

_HTML_HEADERS = {
    "Content-Security-Policy": {
        "description": "frame-ancestors https://{shop} https://admin.shopify.com for a valid "
        "shop parameter, else frame-ancestors 'none'",
        "schema": {"type": "string"},
    }
}


def _html(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _HTML_HEADERS,
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


PATHS: dict[str, Any] = {
    "/": {
        "get": {
            "summary": "The app home in Shopify's admin (App Bridge + Polaris); without a shop, "
            "a short page about the app; a shop that has not installed is sent to the install",
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in ("shop", "host", "embedded", "hmac", "timestamp", "id_token")
            ],
            "responses": {
                "200": _html(
                    "the home page (installed shop), the install breakout page (embedded=1, "
                    "not installed), or the page about the app (no shop)"
                ),
                "302": {
                    "description": "not installed, outside the admin: to /auth/install?shop=",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": _html("the shop parameter is not a *.myshopify.com domain"),
                "401": _html("the hmac parameter does not verify"),
                "503": _html("the database is unavailable (Retry-After)"),
            },
        }
    },
    "/admin/static/{name}": {
        "get": {
            "summary": "The app home's own script and stylesheet (app.js, app.css)",
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "the file (immutable: its URL carries a content hash)",
                    "content": {
                        "text/javascript": {"schema": {"type": "string"}},
                        "text/css": {"schema": {"type": "string"}},
                    },
                },
                "404": PROBLEM,
            },
        }
    },
    "/auth/install": {
        "get": {
            "summary": "Start OAuth: nonce in the session cookie, redirect to Shopify's authorize",
            "parameters": [
                {"name": "shop", "in": "query", "required": True, "schema": {"type": "string"}},
                {"name": "hmac", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "timestamp", "in": "query", "schema": {"type": "string"}},
                {"name": "host", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"302": _REDIRECT, "400": PROBLEM, "401": PROBLEM},
        }
    },
    "/auth/callback": {
        "get": {
            "summary": "Finish OAuth: verify HMAC, state, shop, timestamp; store the token",
            "parameters": [
                {"name": name, "in": "query", "schema": {"type": "string"}}
                for name in ("code", "hmac", "shop", "state", "timestamp", "host")
            ],
            "responses": {
                "302": _REDIRECT,
                "400": PROBLEM,
                "401": PROBLEM,
                "403": PROBLEM,
                "502": PROBLEM,
                "503": PROBLEM,
            },
        }
    },
    "/auth/token-exchange": {
        "post": {
            "summary": "Exchange a session token (Bearer) for an expiring offline token, and "
            "with online (default: shopify.online_tokens) for the staff member's online token",
            "security": [{"sessionToken": []}],
            "requestBody": EXCHANGE_BODY.request_body(required=False),
            "responses": {
                "200": {
                    "description": "shop and granted scopes; with online, the staff member's "
                    "user_id, scopes (associated_user_scope) and expires_at",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["shop", "scopes"],
                                "properties": {
                                    "shop": {"type": "string"},
                                    "scopes": {"type": "array", "items": {"type": "string"}},
                                    "online": {
                                        "type": "object",
                                        "required": ["user_id", "scopes", "expires_at"],
                                        "properties": {
                                            "user_id": {"type": "integer"},
                                            "scopes": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                            },
                                            "expires_at": {"type": "string", "format": "date-time"},
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "400": PROBLEM,
                "401": PROBLEM,
                "502": PROBLEM,
                "503": PROBLEM,
            },
        }
    },
    "/webhooks": {
        "post": {
            "summary": "Shopify webhook delivery (HMAC over the raw body; dedup on event id). "
            "Each header may also come without the X- prefix (Shopify-Topic, ...), "
            "under the same rules",
            "parameters": WEBHOOK_HEADERS.parameters(),
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": _json('{"status": "queued" | "duplicate" | "ignored"}'),
                "400": PROBLEM,
                "401": PROBLEM,
                "413": PROBLEM,
                "503": PROBLEM,
            },
        }
    },
    "/api/compliance/requests": {
        "get": {
            "summary": "The shop's customers/data_request exports (status, due date), newest first",
            "security": [{"sessionToken": []}],
            "parameters": COMPLIANCE_QUERY.parameters(),
            "responses": {
                "200": _json('{"items": [...], "next_cursor": "<opaque>" | null}'),
                "400": PROBLEM,
                "401": PROBLEM,
            },
        }
    },
    "/api/compliance/requests/{request_id}/export": {
        "get": {
            "summary": "Download one completed data request's export (JSON attachment)",
            "security": [{"sessionToken": []}],
            "parameters": [
                {
                    "name": "request_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                "200": _json("the request and its export"),
                "401": PROBLEM,
                "404": PROBLEM,
                "409": PROBLEM,
                "410": PROBLEM,
            },
        }
    },
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json("alive")}}},
    "/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": _json("OpenAPI 3.1")}}
    },
    "/readyz": {
        "get": {
            "summary": "Readiness: database, Redis and broker",
            "responses": {
                "200": _json("ready, or degraded (Redis or the broker down)"),
                "503": PROBLEM,
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "responses": {
                "200": {
                    "description": "text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/pixel/events": {
        "post": {
            "summary": "Web Pixel events (public, CORS open): {accountID, version?, events[<=500]}",
            "requestBody": PIXEL_ENVELOPE.request_body(required=True),
            "responses": {
                "202": _json("queued: {accepted, rejected: [{index, reason}]}"),
                "400": PROBLEM,
                "401": PROBLEM,
                "413": PROBLEM,
                "429": PROBLEM,
                "503": PROBLEM,
            },
        },
        "options": {"summary": "CORS preflight", "responses": {"204": {"description": "ok"}}},
    },
    "/api/extension": {
        "get": {
            "summary": "The shop's Web Pixel: status, version, last event, version history",
            "responses": {"200": _json("extension status"), "401": PROBLEM},
        }
    },
    "/api/extension/activate": {
        "post": {
            "summary": "Create or update the shop's web pixel (webPixelCreate/webPixelUpdate)",
            "responses": {
                "200": _json("extension status"),
                "401": PROBLEM,
                "422": PROBLEM,
                "503": PROBLEM,
            },
        }
    },
    "/api/extension/deactivate": {
        "post": {
            "summary": "Delete the web pixel (webPixelDelete); its ingest key stops working",
            "responses": {"200": _json("extension status"), "401": PROBLEM, "422": PROBLEM},
        }
    },
    "/api/graphql": {
        "post": {
            "summary": "The app home's GraphQL to the Admin API with the staff member's online "
            "token, else the shop's offline token, under the shop's cost throttle; Shopify's "
            "answer as Shopify sent it (errors included)",
            "requestBody": GRAPHQL_BODY.request_body(required=True),
            "responses": {
                "200": {
                    "description": "Shopify's answer (data, errors, extensions.cost); "
                    "Retry-After when Shopify answered THROTTLED",
                    "headers": {
                        "X-Acting-As": {
                            "description": "staff (online token) or app (offline token)",
                            "schema": {"enum": ["staff", "app"]},
                        },
                        "X-Shopify-API-Deprecated-Reason": {
                            "description": "Shopify's, when the query used deprecated fields",
                            "schema": {"type": "string"},
                        },
                    },
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {
                    "description": "malformed request (problem), or Shopify's own 400",
                    "content": {
                        **PROBLEM["content"],
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                **{status: _json("Shopify's answer as sent") for status in ("402", "404", "423")},
            },
        }
    },
    "/api/analytics/summary": {
        "get": {
            "summary": "Daily counts, the checkout funnel and revenue (?from=&to=, UTC days)",
            "responses": {"200": _json("summary"), "400": PROBLEM, "401": PROBLEM},
        }
    },
}


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


# Item schemas come from the column registry (server/sync/columns.py).
ITEM_SCHEMAS: dict[str, dict[str, Any]] = {r: columns.item_schema(r) for r in columns.LISTED}

_AUTH_ERRORS = {"400": PROBLEM, "401": PROBLEM, "403": PROBLEM, "503": PROBLEM}

for _resource, _schema in ITEM_SCHEMAS.items():
    PATHS[f"/api/{_resource}"] = {
        "get": {
            "summary": f"Synced {_resource}, ordered by updated_at then id (session token)",
            "parameters": LIST_QUERY.parameters(),
            "responses": {
                "200": {
                    "description": "one page",
                    "content": {
                        "application/json": {
                            "schema": _object(
                                {"items": {"type": "array", "items": _schema}, "next_cursor": _NSTR}
                            )
                        }
                    },
                },
                **_AUTH_ERRORS,
            },
        }
    }
PATHS["/api/sync"] = {
    "post": {
        "summary": "Start (or join) a sync of the shop; body optional",
        "requestBody": SYNC_BODY.request_body(required=False),
        "responses": {"202": _json("queued: run_id and the runs per resource"), **_AUTH_ERRORS},
    },
    "get": {
        "summary": "Sync state per resource: last run, counts, error, rows stored, next run",
        "responses": {
            "200": {
                "description": "state",
                "content": {
                    "application/json": {
                        "schema": _object(
                            {
                                "interval_s": _INT,
                                "resources": {
                                    "type": "object",
                                    "additionalProperties": _object(
                                        {
                                            "last_run": {"type": ["object", "null"]},
                                            "running": {"type": "boolean"},
                                            "last_success_at": _NTIME,
                                            "stored": {
                                                **_INT,
                                                "description": "rows of it held for the shop",
                                            },
                                            "next_run_at": _NTIME,
                                        }
                                    ),
                                },
                            }
                        )
                    }
                },
            },
            **_AUTH_ERRORS,
        },
    },
}


_MONEY = {"type": ["string", "null"], "description": "decimal amount, e.g. 9.99"}
_PLAN_SCHEMA = _object(
    {
        "handle": _STR,
        "name": _STR,
        "kind": {"enum": ["recurring", "one_time"]},
        "amount": _STR,
        "currency": _STR,
        "interval": {"enum": ["EVERY_30_DAYS", "ANNUAL", None]},
        "trial_days": _INT,
        "usage_capped_amount": _MONEY,
        "usage_terms": _NSTR,
        "price_per_1000_events": _MONEY,
        "included_events": {"type": ["integer", "null"]},
    }
)
_BILLING_STATE = {
    "description": "the shop's billing state",
    "content": {
        "application/json": {
            "schema": _object(
                {
                    "mode": {"enum": ["api", "managed"]},
                    "required": {"type": "boolean"},
                    "test": {"type": "boolean"},
                    "plans": {"type": "array", "items": _PLAN_SCHEMA},
                    "active": {
                        "type": ["object", "null"],
                        "properties": {
                            "plan": _NSTR,
                            "status": _STR,
                            "test": {"type": ["boolean", "null"]},
                            "trial_ends_at": _NTIME,
                            "trial_days_left": _INT,
                            "current_period_end": _NTIME,
                            "usage": {
                                "type": ["object", "null"],
                                "properties": {
                                    "balance": _MONEY,
                                    "capped_amount": _MONEY,
                                    "currency": _NSTR,
                                    "charges": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        },
                    },
                    "one_time_purchases": {"type": "array", "items": {"type": "object"}},
                }
            )
        }
    },
}
PATHS["/api/billing"] = {
    "get": {
        "summary": "Billing: mode, plans, the active plan (trial days left, usage this period "
        "against the cap, held charges), one-time purchases",
        "responses": {"200": _BILLING_STATE, **_AUTH_ERRORS},
    }
}
PATHS["/api/billing/subscribe"] = {
    "post": {
        "summary": "Create the plan's charge on Shopify (appSubscriptionCreate or "
        "appPurchaseOneTimeCreate); the URL the merchant approves it on (managed pricing: "
        "Shopify's plan-selection page)",
        "requestBody": SUBSCRIBE_BODY.request_body(required=True),
        "responses": {
            "200": _json("{confirmation_url}"),
            "422": {**PROBLEM, "description": "Shopify's userErrors, naming the field"},
            **_AUTH_ERRORS,
        },
    }
}
PATHS["/api/billing/cancel"] = {
    "post": {
        "summary": "Cancel the active subscription (appSubscriptionCancel); the new state",
        "responses": {
            "200": _BILLING_STATE,
            "409": {**PROBLEM, "description": "no active subscription (or managed pricing)"},
            "422": PROBLEM,
            **_AUTH_ERRORS,
        },
    }
}
PATHS["/billing/return"] = {
    "get": {
        "summary": "Shopify's redirect after the approval page: the charge is read back from "
        "Shopify, stored if active, and the merchant sent into the app in the shop's admin",
        "parameters": RETURN_QUERY.parameters(),
        "responses": {
            "302": _REDIRECT,
            "400": {
                **PROBLEM,
                "description": "not a shop, or a charge Shopify does not know on this shop",
            },
            "401": PROBLEM,
            "403": PROBLEM,
            "503": PROBLEM,
        },
    }
}

_PROXY_QUERY = [
    {"name": name, "in": "query", "required": name != "path_prefix", "schema": {"type": "string"}}
    for name in ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
]


def _proxy(method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": f"{method} through Shopify's app proxy (https://{{shop}}/apps/...): the "
        "`signature` query verifies, then the handler registered for the path answers "
        '(GET /proxy/ping: {"shop", "logged_in_customer_id"})',
        "parameters": [
            {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}},
            *_PROXY_QUERY,
        ],
        "responses": {
            "200": {
                "description": "the handler's answer (JSON, or Liquid for the theme)",
                "content": {
                    "application/json": {"schema": {}},
                    "application/liquid": {"schema": {"type": "string"}},
                },
            },
            "400": PROBLEM,
            "401": PROBLEM,
            "404": PROBLEM,
        },
    }
    if method == "POST":
        operation["requestBody"] = {"content": {"*/*": {"schema": {}}}}
    return operation


PATHS["/proxy/{path}"] = {"get": _proxy("GET"), "post": _proxy("POST")}


def _ext(method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": f"{method} from a checkout, customer-account or POS UI extension: its "
        "session token (Bearer) verifies, then the handler registered for the path answers "
        '(GET /ext/ping: {"shop", "customer": gid | null})',
        "security": [{"sessionToken": []}],
        "parameters": [
            {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {
                "description": "the handler's answer",
                "content": {"application/json": {"schema": {}}},
            },
            "401": PROBLEM,
            "404": PROBLEM,
        },
    }
    if method == "POST":
        operation["requestBody"] = {"content": {"*/*": {"schema": {}}}}
    return operation


PATHS["/ext/{path}"] = {"get": _ext("GET"), "post": _ext("POST")}

PATHS["/flow/actions/{handle}"] = {
    "post": {
        "summary": "Shopify Flow runs one of the app's actions (HMAC over the raw body, as "
        "webhooks); committed before the 200, applied by a worker; dedup on action_run_id",
        "parameters": [
            {"name": "handle", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "X-Shopify-Hmac-Sha256",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["shopify_domain", "action_run_id"],
                        "properties": {
                            "shop_id": {},
                            "shopify_domain": {"type": "string"},
                            "action_run_id": {"type": "string"},
                            "action_definition_id": {"type": "string"},
                            "handle": {"type": "string"},
                            "properties": {"type": "object"},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": _json('{"status": "queued" | "duplicate"}'),
            "400": PROBLEM,
            "401": PROBLEM,
            "404": PROBLEM,
            "503": PROBLEM,
        },
    }
}


_PREFLIGHT = {
    "summary": "CORS preflight (server/web/cors.py's policy)",
    "responses": {
        "200": {"description": "allowed: Access-Control-Allow-* headers"},
        "403": {**PROBLEM, "description": "origin, method or header not allowed"},
    },
}
PATHS["/pixel/events"]["options"] = _PREFLIGHT
PATHS["/ext/{path}"]["options"] = _PREFLIGHT


def _with_edge_errors(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation with the errors the edge can answer anywhere (malformed or slow
    requests, bodies, rate limits) and, on /api/*, session-token auth's."""
    result: dict[str, Any] = {}
    for path, operations in paths.items():
        result[path] = {}
        for method, operation in operations.items():
            op = {**operation, "responses": dict(operation["responses"])}
            responses = op["responses"]
            if method != "options":
                for status in ("400", "408", "431"):
                    responses.setdefault(status, PROBLEM)
                responses["429"] = TOO_MANY
            if method == "post":
                responses.setdefault("413", PROBLEM)
                responses.setdefault("415", PROBLEM)
            if "{" in path:
                responses.setdefault("404", PROBLEM)
            if path.startswith("/api/") and method != "options":
                op.setdefault("security", [{"sessionToken": []}])
                for status in ("401", "403"):
                    responses.setdefault(status, PROBLEM)
                responses["503"] = UNAVAILABLE
                if not path.startswith("/api/billing"):
                    # With billing.required, a shop without an active plan (server/billing).
                    responses.setdefault("402", {**PROBLEM, "description": "payment required"})
            elif "503" in responses:
                responses["503"] = UNAVAILABLE
            result[path][method] = op
        if path.startswith("/api/") and "options" not in operations:
            result[path]["options"] = _PREFLIGHT
    return result


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shopify app backend", "version": "0.1.0"},
        "paths": _with_edge_errors(PATHS),
        "components": {
            "securitySchemes": {
                "sessionToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
    }
