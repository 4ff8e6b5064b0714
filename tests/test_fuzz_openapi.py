"""Schemathesis against the app's own /openapi.json, with a valid session token: every
operation, data that fits the schema and data that does not. No answer may be a 5xx, and
every answer must be one the document declares (status, content type, headers, body).

Deterministic (derandomized Hypothesis, no example database) so CI cannot flake, and sized
to run in well under a minute.
"""

from __future__ import annotations

import collections
import logging
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import install_shop, make_session_token
from tests.served import ServedApp, unlimited

# schemathesis over every route: minutes
pytestmark = pytest.mark.slow

MAX_EXAMPLES = 150
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Routes whose answer depends on something outside the request (the stores, the job
# queue) keep their own tests; here they would only add time.
SKIP = {("GET", "/readyz"), ("GET", "/metrics")}
# What the fuzzer itself sent through POST /api/graphql: the fake Shopify's "invalid
# operation" record is for the app's own operations, not for the queries a client made up.
PROXIED: set[str] = set()


@pytest.fixture
def served(config, stub_broker, secrets_env):
    from tests.fake_shopify import FakeShopify

    shopify = FakeShopify(
        api_key=secrets_env["SHOPIFY_API_KEY"], api_secret=secrets_env["SHOPIFY_API_SECRET"]
    )
    PROXIED.clear()
    with ServedApp(unlimited(config), stub_broker, shopify=shopify) as app:
        yield app
    assert not [q for q, _ in shopify.invalid_operations if q not in PROXIED]


# Every operation in both modes: about a minute on a quiet 2-core machine, several times
# that on a loaded one (the suite's 300 s per test would cut it off there).
@pytest.mark.timeout(900)
def test_no_operation_answers_a_5xx_or_off_schema(served, config, caplog):
    caplog.set_level(logging.WARNING)
    shop = f"fuzz-{uuid.uuid4().hex[:8]}.myshopify.com"
    served.shopify.add_shop(shop)
    served.run(install_shop(config, shop))
    document = requests.get(f"{served.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    statuses: collections.Counter[int] = collections.Counter()
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy, fresh=st.just(None))
            def check(case: Any, fresh: None) -> None:
                # A fresh token each time: a run outlives a session token's minute.
                token = make_session_token(config, shop)
                if case.operation.path == "/api/graphql" and isinstance(case.body, dict):
                    PROXIED.add(str(case.body.get("query")))
                response = case.call(
                    base_url=served.url,
                    session=session,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # Nothing of this operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label

    total = sum(statuses.values())
    client_errors = sum(n for s, n in statuses.items() if 400 <= s < 500)
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    print(
        f"schemathesis: {operations} operations, {total} requests, "
        f"{client_errors} 4xx, {server_errors} 5xx; by status {dict(sorted(statuses.items()))}"
    )
    assert operations >= 20
    assert total >= operations * MAX_EXAMPLES // 2
    assert server_errors == 0
    # No client's input made the app log an error (a traceback, "database unavailable").
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
