"""Opaque keyset cursors for list endpoints: one format and one parser for every list.

A cursor is the unpadded URL-safe base64 of the JSON array `[kind, key1, key2, ...]`: `kind`
names the list (a cursor of one list is refused by another) and the keys are the integers of
the last row's sort key, each checked against its range so that a decoded cursor is always a
value the database takes. Handlers turn `InvalidCursorError` into a 400 problem.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

import orjson

from server.inputs import Field, Int, Str

# BIGINT ids: anything outside is no id of ours.
BIGINT_MAX = 2**63 - 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 250

# The page size and cursor of every list's query (declared with server/inputs.py).
LIMIT = Field(
    "limit",
    Int(ge=1, le=MAX_LIMIT),
    f"limit must be an integer from 1 to {MAX_LIMIT}",
    default=DEFAULT_LIMIT,
    title="Invalid limit",
)
CURSOR = Field("cursor", Str(), description="next_cursor of the previous page (opaque)")


class InvalidCursorError(ValueError):
    """The cursor is not one this list returned."""


def encode_cursor(kind: str, *keys: int) -> str:
    """The opaque cursor of `kind` after the row whose sort key is `keys`."""
    return base64.urlsafe_b64encode(orjson.dumps([kind, *keys])).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, bounds: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """The keys of a cursor `encode_cursor(kind, ...)` made, each within its (low, high) bounds.

    Raises InvalidCursorError for anything else: another list's cursor, a forged or
    truncated one, keys out of range.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursorError(cursor) from None
    if not isinstance(value, list) or len(value) != len(bounds) + 1 or value[0] != kind:
        raise InvalidCursorError(cursor)
    keys = tuple(value[1:])
    for key, (low, high) in zip(keys, bounds, strict=True):
        if type(key) is not int or not low <= key <= high:
            raise InvalidCursorError(cursor)
    return keys
