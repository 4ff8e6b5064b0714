"""The OpenAPI document of the app's routes (GET /openapi.json)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

PROBLEM = {
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
                },
            }
        }
    },
}


def _json(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json("alive")}}},
    "/readyz": {
        "get": {
            "summary": "Readiness: database, Redis and broker",
            "responses": {"200": _json("ready"), "503": PROBLEM},
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
}


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NINT = {"type": ["integer", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}
_MONEY = {"type": ["string", "null"], "description": "decimal amount in shop currency"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


ITEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "products": _object(
        {
            "id": _INT,
            "title": _STR,
            "handle": _STR,
            "status": _STR,
            "vendor": _STR,
            "product_type": _STR,
            "tags": {"type": "array", "items": _STR},
            "created_at": _NTIME,
            "updated_at": _TIME,
            "variants": {
                "type": "array",
                "items": _object(
                    {
                        "id": _INT,
                        "product_id": _INT,
                        "title": _STR,
                        "sku": _STR,
                        "price": _MONEY,
                        "inventory_quantity": _NINT,
                        "updated_at": _NTIME,
                    }
                ),
            },
        }
    ),
    "orders": _object(
        {
            "id": _INT,
            "name": _STR,
            "email": _NSTR,
            "customer_id": _NINT,
            "financial_status": _STR,
            "fulfillment_status": _STR,
            "currency": _STR,
            "total_price": _MONEY,
            "created_at": _NTIME,
            "processed_at": _NTIME,
            "cancelled_at": _NTIME,
            "updated_at": _TIME,
            "line_items": {
                "type": "array",
                "items": _object(
                    {
                        "id": _INT,
                        "order_id": _INT,
                        "title": _STR,
                        "quantity": _INT,
                        "sku": _STR,
                        "variant_id": _NINT,
                        "price": _MONEY,
                    }
                ),
            },
        }
    ),
    "transactions": _object(
        {
            "id": _INT,
            "order_id": _INT,
            "customer_id": _NINT,
            "kind": _STR,
            "status": _STR,
            "gateway": _STR,
            "amount": _MONEY,
            "currency": _STR,
            "test": {"type": "boolean"},
            "parent_id": _NINT,
            "created_at": _NTIME,
            "processed_at": _NTIME,
            "updated_at": {**_TIME, "description": "the order's updatedAt"},
        }
    ),
    "customers": _object(
        {
            "id": _INT,
            "email": _NSTR,
            "first_name": _STR,
            "last_name": _STR,
            "state": _STR,
            "tags": {"type": "array", "items": _STR},
            "orders_count": _NINT,
            "amount_spent": _MONEY,
            "currency": _STR,
            "verified_email": {"type": ["boolean", "null"]},
            "created_at": _NTIME,
            "updated_at": _TIME,
        }
    ),
}

_LIST_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 250, "default": 50},
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": _STR,
        "description": "next_cursor of the previous page (opaque)",
    },
    {
        "name": "updated_since",
        "in": "query",
        "schema": _TIME,
        "description": "ISO 8601 with a zone; updated_at >= it",
    },
]
_AUTH_ERRORS = {"400": PROBLEM, "401": PROBLEM, "403": PROBLEM, "503": PROBLEM}

for _resource, _schema in ITEM_SCHEMAS.items():
    PATHS[f"/api/{_resource}"] = {
        "get": {
            "summary": f"Synced {_resource}, ordered by updated_at then id (session token)",
            "parameters": _LIST_PARAMETERS,
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
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": _object(
                        {
                            "kind": {"enum": ["full", "incremental"]},
                            "resources": {
                                "type": "array",
                                "items": {"enum": ["products", "orders", "customers"]},
                            },
                        }
                    )
                }
            },
        },
        "responses": {"202": _json("queued: run_id and the runs per resource"), **_AUTH_ERRORS},
    },
    "get": {
        "summary": "Sync state per resource: last run, counts, error, next scheduled run",
        "responses": {"200": _json("state"), **_AUTH_ERRORS},
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shopify app backend", "version": "0.1.0"},
        "paths": PATHS,
    }


async def openapi_json(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.Response(body=orjson.dumps(document()), content_type="application/json")
