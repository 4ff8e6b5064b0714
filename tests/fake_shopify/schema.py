"""Shopify's real Admin API schema (2026-10), from `@shopify/dev-mcp@1.16.0`.

`admin_2026-10.json.gz` is `dist/data/admin_2026-10.json.gz` of that npm package
(`cd /tmp && npm pack @shopify/dev-mcp@1.16.0`), an introspection result.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

import orjson
from graphql import GraphQLSchema, build_client_schema

SCHEMA_VERSION = "2026-10"
SCHEMA_PATH = Path(__file__).with_name(f"admin_{SCHEMA_VERSION}.json.gz")


@cache
def admin_schema() -> GraphQLSchema:
    """The Admin schema, built once per process."""
    introspection = orjson.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    schema = build_client_schema(introspection["data"])
    # Shopify's schema trips graphql-core's own schema checks on deprecated-argument
    # quirks; the introspection is authoritative, so skip them.
    schema._validation_errors = []
    return schema
