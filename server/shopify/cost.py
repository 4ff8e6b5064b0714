"""Client-side estimate of a query's `requestedQueryCost`, before sending it.

Shopify's published model (shopify.dev, "GraphQL Admin API rate limits"): scalars and
enums cost 0, objects 1, a connection 2 plus its page size times the cost of one node,
and a mutation 10. The estimate needs no schema: in a valid query, a field with a
selection set is an object and one without is a leaf. It lets the shared bucket reserve
the right amount before the server has told us anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)

MUTATION_COST = 10
CONNECTION_BASE_COST = 2
# Shopify rejects a connection without first/last; assume the largest page if one slips by.
MAX_PAGE_SIZE = 250


@lru_cache(maxsize=256)
def _parse(query: str) -> DocumentNode:
    return parse(query, no_location=True)


def operation_name(query: str) -> str | None:
    """The name of the first operation in `query`, if it has one."""
    for definition in _parse(query).definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


def estimate_query_cost(query: str, variables: Mapping[str, Any] | None = None) -> int:
    """Upper-bound estimate of `requestedQueryCost` for one operation."""
    document = _parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    estimator = _Estimator(fragments, variables or {})
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation == OperationType.MUTATION:
                return MUTATION_COST * len(estimator.fields(definition.selection_set))
            return estimator.selection_cost(definition.selection_set)
    return 0


class _Estimator:
    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self._fragments = fragments
        self._variables = variables

    def fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        out: list[FieldNode] = []
        if selection_set is None:
            return out
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                out.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                out.extend(self.fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None:
                    out.extend(self.fields(fragment.selection_set))
        return out

    def selection_cost(self, selection_set: SelectionSetNode | None) -> int:
        return sum(self.field_cost(f) for f in self.fields(selection_set))

    def field_cost(self, field: FieldNode) -> int:
        if field.selection_set is None:
            return 0
        size = self._page_size(field)
        children = self.fields(field.selection_set)
        names = {c.name.value for c in children}
        if size is not None and names & {"edges", "nodes"}:
            return CONNECTION_BASE_COST + size * self._node_cost(children)
        if size is not None:
            # A plain list with a size argument (e.g. Order.transactions(first:)).
            return size * (1 + self.selection_cost(field.selection_set))
        return 1 + self.selection_cost(field.selection_set)

    def _node_cost(self, connection_fields: list[FieldNode]) -> int:
        cost = 0
        for child in connection_fields:
            if child.name.value == "nodes":
                cost = max(cost, 1 + self.selection_cost(child.selection_set))
            elif child.name.value == "edges":
                for edge_field in self.fields(child.selection_set):
                    if edge_field.name.value == "node":
                        cost = max(cost, 1 + self.selection_cost(edge_field.selection_set))
        return cost

    def _page_size(self, field: FieldNode) -> int | None:
        sizes: list[int] = []
        for argument in field.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                sizes.append(int(value.value))
            elif isinstance(value, VariableNode):
                given = self._variables.get(value.name.value)
                sizes.append(int(given) if given is not None else MAX_PAGE_SIZE)
        return max(sizes) if sizes else None
