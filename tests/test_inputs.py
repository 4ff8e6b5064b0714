"""Route inputs (server/inputs.py): each declaration parses what the OpenAPI document says
it takes, and refuses the rest with a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from server.admin.graphql import GRAPHQL_BODY
from server.billing.http import RETURN_QUERY, SUBSCRIBE_BODY
from server.inputs import Body, Int, Parameters, Str, Strings
from server.privacy.http import LIST_QUERY as COMPLIANCE_QUERY
from server.problem import Problem
from server.shops.http import EXCHANGE_BODY
from server.sync.http import LIST_QUERY, SYNC_BODY
from server.web import openapi
from server.web.intake_inputs import PIXEL_ENVELOPE

BODIES = [SYNC_BODY, SUBSCRIBE_BODY, EXCHANGE_BODY, GRAPHQL_BODY, PIXEL_ENVELOPE]
QUERIES = [LIST_QUERY, COMPLIANCE_QUERY, RETURN_QUERY]
SAMPLES = {"shop": "s.myshopify.com", "charge_id": "1"}  # values the fields' `then` takes


def _refused(parse: Any, value: Any) -> Problem:
    with pytest.raises(Problem) as info:
        parse(value)
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(f.name for f in q.fields))
def test_a_query_takes_its_documented_bounds_and_no_more(query: Parameters) -> None:
    documented = {p["name"]: p for p in query.parameters()}
    assert list(documented) == [f.name for f in query.fields]
    required = {f.name: SAMPLES.get(f.name, "x") for f in query.fields if f.required}
    for item in query.fields:
        if item.required:
            assert documented[item.name]["required"] is True
            missing = {k: v for k, v in required.items() if k != item.name}
            assert str(_refused(query.parse, missing)) == item.detail
            assert query.parse(required)[item.name]
        if isinstance(item.kind, Int):
            schema = documented[item.name]["schema"]
            low, high = schema["minimum"], schema["maximum"]
            assert query.parse({item.name: str(high)})[item.name] == high
            assert query.parse({item.name: str(low)})[item.name] == low
            assert query.parse({})[item.name] == schema["default"]
            for wrong in (str(low - 1), str(high + 1), "ten", ""):
                assert str(_refused(query.parse, {item.name: wrong})) == item.detail
    if query.closed:
        problem = _refused(query.parse, {"colour": "red"})
        assert str(problem) == "unknown query parameter: 'colour'"


@pytest.mark.parametrize("body", BODIES, ids=lambda b: ",".join(f.name for f in b.fields))
def test_a_body_takes_its_documented_shape_and_no_more(body: Body) -> None:
    schema = body.schema()
    assert list(schema["properties"]) == [f.name for f in body.fields]
    assert schema.get("required", []) == [f.name for f in body.fields if f.required]
    assert str(_refused(body.parse, [])) == body.expected
    if body.closed:
        assert schema["additionalProperties"] is False
        assert str(_refused(body.parse, {"colour": "red"})) == body.expected
    else:
        assert "additionalProperties" not in schema
    for item in body.fields:
        wrong = 3 if not isinstance(item.kind, Int) else "3"
        if item.required:
            assert str(_refused(body.parse, {})) == next(
                f.detail for f in body.fields if f.required
            )
        if isinstance(item.kind, Str | Strings) and getattr(item.kind, "enum", ()):
            assert str(_refused(body.parse, {item.name: "neither"})) == item.detail
        others = {f.name: _valid(f.kind) for f in body.fields if f.name != item.name}
        assert str(_refused(body.parse, {**others, item.name: wrong})) == item.detail


def _valid(kind: Any) -> Any:
    return (
        kind.enum[0]
        if getattr(kind, "enum", ())
        else {"Str": "x", "Array": [1]}.get(type(kind).__name__, {})
    )


def test_bodies_parse_defaults_nulls_and_partial() -> None:
    assert SYNC_BODY.parse({}) == {"kind": "incremental", "resources": None}
    assert SYNC_BODY.parse({"resources": ["customers", "products"]})["resources"] == [
        "products",
        "customers",
    ]
    assert str(_refused(SYNC_BODY.parse, {"resources": []})).startswith("resources must be")
    assert GRAPHQL_BODY.parse({"query": "{ shop { id } }", "variables": None}) == {
        "query": "{ shop { id } }",
        "variables": None,
        "operationName": None,
    }
    assert str(_refused(GRAPHQL_BODY.parse, {"query": "   "})) == "query must be a non-empty string"
    assert SUBSCRIBE_BODY.parse({}, partial=True) == {"plan": None}
    assert str(_refused(SUBSCRIBE_BODY.parse, {})) == "plan must be a plan's handle (a string)"
    assert EXCHANGE_BODY.parse({"online": True, "other": 1}) == {"online": True}
    assert str(_refused(EXCHANGE_BODY.parse, {"online": None})) == "online must be true or false"


def test_the_document_is_made_from_the_declarations() -> None:
    paths = openapi.document()["paths"]
    body = paths["/api/sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == SYNC_BODY.schema()
    assert body["properties"]["resources"]["minItems"] == 1
    assert paths["/api/products"]["get"]["parameters"] == LIST_QUERY.parameters()
    assert paths["/billing/return"]["get"]["parameters"] == RETURN_QUERY.parameters()
    limit = paths["/api/compliance/requests"]["get"]["parameters"][0]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 250, 50)
