"""Route inputs declared once: a declaration parses a route's query, headers or JSON body and
writes that part of the OpenAPI document (server/openapi.py reads the declarations), so the
document says what the parser takes instead of a copy kept beside it.

`Parameters` (a query, or headers) and `Body` are tuples of `Field`s. A field's kind (`Int`, `Str`,
`Bool`, `Strings`, `Array`, `Obj`, `AnyValue`) both checks a value and gives its JSON Schema, from the
same bounds. A wrong value is a 400 problem whose detail is the field's `detail`; a field's
`then` turns a checked value into what the handler wants (raising ValueError for the 400,
or a Problem of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.problem import Problem


class Kind(Protocol):
    """What a field's value may be."""

    def schema(self) -> dict[str, Any]: ...

    def accepts(self, value: Any) -> bool: ...

    def from_text(self, text: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Int:
    """A whole number within [ge, le]."""

    ge: int | None = None
    le: int | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.ge is not None:
            schema["minimum"] = self.ge
        if self.le is not None:
            schema["maximum"] = self.le
        return schema

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (self.ge is None or value >= self.ge)
            and (self.le is None or value <= self.le)
        )

    def from_text(self, text: str) -> int:
        number = int(text)
        if not self.accepts(number):
            raise ValueError(text)
        return number


@dataclass(frozen=True, slots=True)
class Str:
    """A string: one of `enum` when given, else of min_length..max_length characters;
    `format` only documents it (its field's `then` parses it)."""

    min_length: int = 0
    max_length: int | None = None
    enum: tuple[str, ...] = ()
    format: str | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.format:
            schema["format"] = self.format
        return schema

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, str)
            and len(value) >= self.min_length
            and (self.max_length is None or len(value) <= self.max_length)
            and (not self.enum or value in self.enum)
        )

    def from_text(self, text: str) -> str:
        if not self.accepts(text):
            raise ValueError(text)
        return text


@dataclass(frozen=True, slots=True)
class Bool:
    """true or false (JSON only)."""

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def from_text(self, text: str) -> bool:
        raise ValueError(text)


@dataclass(frozen=True, slots=True)
class Strings:
    """A JSON array of at least `min_items` strings, each one of `enum`."""

    enum: tuple[str, ...]
    min_items: int = 0

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"enum": list(self.enum)}}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) >= self.min_items
            and all(isinstance(v, str) and v in self.enum for v in value)
        )

    def from_text(self, text: str) -> list[str]:
        raise ValueError(text)


@dataclass(frozen=True, slots=True)
class Array:
    """A JSON array of at least `min_items` values of any kind."""

    min_items: int = 0

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array"}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list) and len(value) >= self.min_items

    def from_text(self, text: str) -> list[Any]:
        raise ValueError(text)


@dataclass(frozen=True, slots=True)
class Obj:
    """A JSON object, any keys."""

    def schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)

    def from_text(self, text: str) -> dict[str, Any]:
        raise ValueError(text)


@dataclass(frozen=True, slots=True)
class AnyValue:
    """Anything (the parser ignores it)."""

    def schema(self) -> dict[str, Any]:
        return {}

    def accepts(self, value: Any) -> bool:
        return True

    def from_text(self, text: str) -> str:
        return text


@dataclass(frozen=True, slots=True)
class Field:
    """One input: its name, kind, and the 400's detail when its value is wrong."""

    name: str
    kind: Kind
    detail: str = ""
    required: bool = False
    default: Any = None  # when absent (documented when it is not None)
    nullable: bool = False  # JSON null is taken (as the default)
    description: str | None = None
    title: str | None = None  # the 400's title, else its declaration's
    then: Callable[[Any], Any] | None = None

    def schema(self) -> dict[str, Any]:
        schema = self.kind.schema()
        if self.nullable and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        if self.default is not None:
            schema["default"] = self.default
        if self.description:
            schema["description"] = self.description
        return schema

    def problem(self, title: str | None) -> Problem:
        return Problem(400, self.detail or f"{self.name} is not valid", title=self.title or title)

    def finish(self, value: Any, title: str | None) -> Any:
        if self.then is None:
            return value
        try:
            return self.then(value)
        except ValueError:
            raise self.problem(title) from None


@dataclass(frozen=True, slots=True)
class Parameters:
    """A route's query parameters (or, `where="header"`, the headers it reads); `closed`:
    any other query parameter is a 400."""

    fields: tuple[Field, ...]
    where: str = "query"
    closed: bool = True
    title: str | None = "Invalid query"

    def parse(self, given: Mapping[str, str]) -> dict[str, Any]:
        """The parameters' values (defaults for the absent ones), or a 400 Problem."""
        if self.closed:
            unknown = sorted(set(given) - {f.name for f in self.fields})
            if unknown:
                raise Problem(400, f"unknown query parameter: {unknown[0]!r}", title=self.title)
        values: dict[str, Any] = {}
        for item in self.fields:
            text = given.get(item.name)
            if text is None:
                if item.required:
                    raise item.problem(self.title)
                values[item.name] = item.default
                continue
            try:
                value = item.kind.from_text(text)
            except ValueError:
                raise item.problem(self.title) from None
            values[item.name] = item.finish(value, self.title)
        return values

    def parameters(self) -> list[dict[str, Any]]:
        """The OpenAPI parameters."""
        parameters = []
        for item in self.fields:
            parameter: dict[str, Any] = {"name": item.name, "in": self.where}
            if item.required:
                parameter["required"] = True
            schema = item.schema()
            if "description" in schema:
                parameter["description"] = schema.pop("description")
            parameter["schema"] = schema
            parameters.append(parameter)
        return parameters


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON object body; `closed`: a key not declared is a 400 (`expected` says the shape)."""

    fields: tuple[Field, ...]
    expected: str
    closed: bool = True
    title: str | None = "Invalid body"
    names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(f.name for f in self.fields))

    def parse(self, document: Any, *, partial: bool = False) -> dict[str, Any]:
        """The fields' values (defaults for the absent ones), or a 400 Problem; `partial`:
        required fields may be absent too."""
        if not isinstance(document, dict) or (self.closed and not self.names.issuperset(document)):
            raise Problem(400, self.expected, title=self.title)
        values: dict[str, Any] = {}
        for item in self.fields:
            if item.name not in document or (item.nullable and document[item.name] is None):
                if item.required and not partial:
                    raise item.problem(self.title)
                values[item.name] = item.default
                continue
            value = document[item.name]
            if not item.kind.accepts(value):
                raise item.problem(self.title)
            values[item.name] = item.finish(value, self.title)
        return values

    def schema(self) -> dict[str, Any]:
        """The body's JSON Schema."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.schema() for f in self.fields},
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        if self.closed:
            schema["additionalProperties"] = False
        return schema

    def request_body(self, *, required: bool) -> dict[str, Any]:
        """The OpenAPI requestBody."""
        return {"required": required, "content": {"application/json": {"schema": self.schema()}}}
