"""The app home's GraphQL proxy: what `POST /api/graphql` sends to the Admin API, and as whom.

The body is Shopify's own GraphQL request shape (`query`, `variables`, `operationName`);
it is checked only as far as the cost estimate needs (valid JSON, a query that parses) and
then sent as it came. The token is the staff member's online token when the app has one
(Shopify then applies that staff member's permissions), else the shop's offline token; with
`shopify.online_tokens` on, a staff member without one gets one by token exchange first, so
the proxy never acts with more rights than the person using the app home.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse

from models import Shop
from server.inputs import Body, Field, Obj, Str
from server.problem import Problem
from server.services import ShopifyServices
from server.shopify.transport import ShopCredentials

log = logging.getLogger(__name__)

MAX_OPERATION_NAME_CHARS = 200


def _non_blank(query: str) -> str:
    if not query.strip():
        raise ValueError(query)
    return query


# POST /api/graphql's body (Shopify's GraphQL request shape): parsed here, documented from here.
GRAPHQL_BODY = Body(
    (
        Field(
            "query",
            Str(min_length=1),
            "query must be a non-empty string",
            required=True,
            then=_non_blank,
        ),
        Field("variables", Obj(), "variables must be a JSON object", nullable=True),
        Field(
            "operationName",
            Str(max_length=MAX_OPERATION_NAME_CHARS),
            "operationName must be a short string",
            nullable=True,
        ),
    ),
    expected="the body must be a JSON object",
    closed=False,
    title="Malformed request",
)


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    """One GraphQL request of the app home."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None


def parse_proxy_request(body: bytes) -> ProxyRequest:
    """The request's `query`, `variables` and `operationName`; Problem(400) when malformed."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not JSON", title="Malformed request") from None
    given = GRAPHQL_BODY.parse(document)
    query, name = given["query"], given["operationName"]
    variables = {} if given["variables"] is None else given["variables"]
    try:
        parsed = parse(query, no_location=True)
    except GraphQLError as e:
        raise Problem(
            400, f"query is not GraphQL: {e.message}", title="Malformed request"
        ) from None
    except RecursionError:
        raise Problem(400, "query nests too deeply", title="Malformed request") from None
    names = {
        d.name.value if d.name else None
        for d in parsed.definitions
        if isinstance(d, OperationDefinitionNode)
    }
    if not names:
        raise Problem(400, "query has no operation", title="Malformed request")
    if name is not None and name not in names:
        raise Problem(
            400, "operationName names no operation of the query", title="Malformed request"
        )
    return ProxyRequest(query=query, variables=variables, operation_name=name or None)


@dataclass(frozen=True, slots=True)
class ProxyCredentials:
    """The token a proxied call uses, and the staff member it acts as (None: the app)."""

    creds: ShopCredentials
    user_id: int | None


async def proxy_credentials(
    services: ShopifyServices,
    shop: Shop,
    *,
    user_id: int | None,
    session_token: str,
    online_tokens: bool,
) -> ProxyCredentials:
    """The staff member's online token when there is one (after a token exchange when
    `online_tokens` is on), else the shop's offline token. Raises OAuthError from the token
    exchange and ShopTokenError for the offline token."""
    tokens = services.tokens
    if user_id is not None:
        token = await tokens.online_access_token(shop, user_id)
        if token is None and online_tokens:
            grant = await services.oauth.token_exchange(shop.domain, session_token, online=True)
            await tokens.store_online_grant(shop, grant)
            token = grant.access_token
            log.info("online token obtained", extra={"shop": shop.domain, "user_id": user_id})
        if token is not None:
            return ProxyCredentials(ShopCredentials(shop.domain, token), user_id)
    token = await tokens.access_token(shop.domain)
    return ProxyCredentials(ShopCredentials(shop.domain, token), None)
