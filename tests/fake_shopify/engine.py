"""GraphQL execution for the fake: real schema, dict resolvers, connections, cost.

Cost model (after shopify.dev "GraphQL Admin API rate limits"; requested cost is computed
before execution from the query, actual cost after, from what came back):

- scalar and enum fields cost 0; an object field costs 1 plus its selections;
- a connection costs 2 plus N times the cost of one node (1 plus the node's selections),
  N being `first`/`last` for the requested cost and the number of nodes returned for
  the actual cost;
- a list field with `first`/`last` costs that many times (1 plus its selections);
- every mutation root field costs 10.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLUnionType

MUTATION_COST = 10
MAX_PAGE_SIZE = 250

Node = dict[str, Any]


@dataclass
class ExecContext:
    """Per-request context handed to resolvers."""

    bulk: bool = False


# --- connections ---------------------------------------------------------------------

_TERM = re.compile(r"""(\w+):(>=|<=|>|<|=)?('[^']*'|"[^"]*"|\S+)""")
_SORT_FIELDS = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "ID": None}


def _gid_number(node: Node) -> int:
    return int(str(node.get("id", "0")).rsplit("/", 1)[-1])


def _parse_time(value: str) -> datetime:
    value = value.strip("'\"")
    if len(value) == 10:
        value += "T00:00:00Z"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def filter_nodes(nodes: Iterable[Node], query: str | None) -> list[Node]:
    """Apply Shopify search syntax terms we support: updated_at, created_at, id."""
    out = list(nodes)
    if not query:
        return out
    for name, given_op, raw in _TERM.findall(query):
        op = given_op or "="
        if name in ("updated_at", "created_at"):
            key = "updatedAt" if name == "updated_at" else "createdAt"
            bound = _parse_time(raw)
            out = [n for n in out if _compare(_parse_time(n[key]), op, bound)]
        elif name == "id":
            bound_id = int(raw.strip("'\"").rsplit("/", 1)[-1])
            out = [n for n in out if _compare(_gid_number(n), op, bound_id)]
        # Shopify ignores unknown terms (with a search warning); so do we.
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    match op:
        case ">=":
            return bool(left >= right)
        case ">":
            return bool(left > right)
        case "<=":
            return bool(left <= right)
        case "<":
            return bool(left < right)
        case _:
            return bool(left == right)


def _sort_key(sort_key: str | None) -> Callable[[Node], tuple[Any, ...]]:
    field = _SORT_FIELDS.get(sort_key or "ID")

    def key(node: Node) -> tuple[Any, ...]:
        return (node.get(field, ""), _gid_number(node)) if field else (_gid_number(node),)

    return key


def _encode_cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode()


def _decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        return tuple(orjson.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, orjson.JSONDecodeError) as e:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from e


def make_connection(items: list[Node], args: Mapping[str, Any], *, bulk: bool) -> Node:
    """Shopify connection semantics over `items`: filter, sort, first/after, last/before."""
    first, last = args.get("first"), args.get("last")
    if not bulk:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        for size in (first, last):
            if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
                raise GraphQLError(f"first/last must be between 0 and {MAX_PAGE_SIZE}")
    key = _sort_key(args.get("sortKey"))
    reverse = bool(args.get("reverse"))
    ordered = sorted(filter_nodes(items, args.get("query")), key=key, reverse=reverse)
    keyed = [(key(n), n) for n in ordered]

    def beyond(k: tuple[Any, ...], cursor: tuple[Any, ...]) -> bool:
        return k < cursor if reverse else k > cursor

    if args.get("after"):
        after = _decode_cursor(args["after"])
        keyed = [(k, n) for k, n in keyed if beyond(k, after)]
    if args.get("before"):
        before = _decode_cursor(args["before"])
        keyed = [(k, n) for k, n in keyed if beyond(before, k)]
    total = len(keyed)
    has_next = has_previous = False
    if first is not None:
        has_next = total > first
        keyed = keyed[:first]
    if last is not None:
        has_previous = len(keyed) > last
        keyed = keyed[len(keyed) - last :] if last else []
    edges = [{"cursor": _encode_cursor(k), "node": n} for k, n in keyed]
    return {
        "edges": edges,
        "nodes": [n for _, n in keyed],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or bool(args.get("after")),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def field_resolver(source: Any, info: GraphQLResolveInfo[ExecContext], **args: Any) -> Any:
    """Default resolver: dict key = field name; lists under a Connection type are paged."""
    value = source.get(info.field_name) if isinstance(source, dict) else None
    if callable(value):
        return value(info, **args)
    named = get_named_type(info.return_type)
    if named.name.endswith("Connection") and isinstance(value, list):
        context: ExecContext = info.context
        return make_connection(value, args, bulk=context.bulk)
    if isinstance(value, list) and is_list_type(get_nullable_type(info.return_type)):
        size = args.get("first")
        return value[:size] if isinstance(size, int) else value
    return value


def type_resolver(value: Any, info: GraphQLResolveInfo[Any], abstract_type: Any) -> str | None:
    """Objects carry their concrete type in `__typename`."""
    return value.get("__typename") if isinstance(value, dict) else None


# --- cost ----------------------------------------------------------------------------


class CostCalculator:
    """Requested and actual query cost of one operation (see module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self._schema = schema
        self._variables = dict(variables or {})
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation_cost(self, operation: OperationDefinitionNode, data: Any = None) -> int:
        """Requested cost when `data` is None, actual cost over `data` otherwise."""
        if operation.operation == OperationType.MUTATION:
            return MUTATION_COST * len(self._fields(operation.selection_set))
        root = self._schema.query_type
        assert root is not None
        return self._selection_cost(operation.selection_set, root, data, actual=data is not None)

    def _fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        out: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                out.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                out.extend(self._fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None:
                    out.extend(self._fields(fragment.selection_set))
        return out

    def _arg(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self._variables)
        return None

    def _field_type(self, parent: Any, name: str) -> Any:
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field = parent.fields.get(name)
            return field.type if field else None
        if isinstance(parent, GraphQLUnionType):
            for member in parent.types:
                if name in member.fields:
                    return member.fields[name].type
        return None

    def _selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any, data: Any, *, actual: bool
    ) -> int:
        total = 0
        for field in self._fields(selection_set):
            name = field.name.value
            if name.startswith("__"):
                continue
            field_type = self._field_type(parent, name)
            if field_type is None:
                continue
            value = None
            if actual:
                if not isinstance(data, dict):
                    continue
                value = data.get(field.alias.value if field.alias else name)
                if value is None:
                    continue
            total += self._field_cost(field, field_type, value, actual=actual)
        return total

    def _field_cost(self, field: FieldNode, field_type: Any, value: Any, *, actual: bool) -> int:
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        size = self._arg(field, "first")
        if size is None:
            size = self._arg(field, "last")
        if named.name.endswith("Connection"):
            return 2 + self._connection_nodes_cost(field, named, value, size, actual=actual)
        if is_list_type(get_nullable_type(field_type)):
            count = size if isinstance(size, int) else 1
            item = value[0] if actual and isinstance(value, list) and value else None
            if actual and not value:
                return 0
            return count * (
                1 + self._selection_cost(field.selection_set, named, item, actual=actual)
            )
        return 1 + self._selection_cost(field.selection_set, named, value, actual=actual)

    def _connection_nodes_cost(
        self, field: FieldNode, connection: Any, value: Any, size: Any, *, actual: bool
    ) -> int:
        node_type = (
            get_named_type(connection.fields["nodes"].type)
            if "nodes" in connection.fields
            else None
        )
        per_node = 0
        for child in self._fields(field.selection_set):
            child_name = child.name.value
            if child_name == "nodes":
                nodes = value.get(child.alias.value if child.alias else "nodes") if actual else None
                if actual:
                    nodes_total = sum(
                        1 + self._selection_cost(child.selection_set, node_type, node, actual=True)
                        for node in nodes or []
                    )
                    per_node = max(per_node, nodes_total)
                else:
                    per_node = max(
                        per_node,
                        1
                        + self._selection_cost(child.selection_set, node_type, None, actual=False),
                    )
            elif child_name == "edges":
                edges = value.get(child.alias.value if child.alias else "edges") if actual else None
                for edge_field in self._fields(child.selection_set):
                    if edge_field.name.value != "node":
                        continue
                    key = edge_field.alias.value if edge_field.alias else "node"
                    if actual:
                        edge_total = sum(
                            1
                            + self._selection_cost(
                                edge_field.selection_set, node_type, edge.get(key), actual=True
                            )
                            for edge in edges or []
                        )
                        per_node = max(per_node, edge_total)
                    else:
                        per_node = max(
                            per_node,
                            1
                            + self._selection_cost(
                                edge_field.selection_set, node_type, None, actual=False
                            ),
                        )
        if actual:
            return per_node  # already summed over the nodes that came back
        return (size if isinstance(size, int) else MAX_PAGE_SIZE) * per_node


# --- bulk JSONL ----------------------------------------------------------------------


def _is_connection_value(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("edges"), list)


def bulk_lines(data: Node) -> Iterable[Node]:
    """Flatten a bulk query result: every connection node becomes its own line, nested
    connection nodes carry `__parentId`, each parent directly followed by its children."""
    for value in data.values():
        if _is_connection_value(value):
            for edge in value["edges"]:
                yield from _node_lines(edge["node"], None)


def _node_lines(node: Node, parent_id: str | None) -> Iterable[Node]:
    line: Node = {}
    nested: list[Node] = []
    for key, value in node.items():
        if _is_connection_value(value):
            nested.extend(edge["node"] for edge in value["edges"])
        else:
            line[key] = value
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield line
    for child in nested:
        yield from _node_lines(child, node.get("id"))
