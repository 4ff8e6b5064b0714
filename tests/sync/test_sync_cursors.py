"""Keyset cursors (server/pagination.py, used by the data API and the privacy requests list)."""

from __future__ import annotations

import base64

import orjson
import pytest

from server.pagination import BIGINT_MAX, InvalidCursorError, decode_cursor, encode_cursor

BOUNDS = [(0, 10**17), (0, BIGINT_MAX)]


def _raw(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def test_a_cursor_decodes_to_its_keys() -> None:
    cursor = encode_cursor("orders", 1_700_000_000_000_000, BIGINT_MAX)
    assert "=" not in cursor
    assert decode_cursor("orders", cursor, BOUNDS) == (1_700_000_000_000_000, BIGINT_MAX)


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("products", 1, 2),  # another list's
        encode_cursor("orders", 1),  # too few keys
        encode_cursor("orders", 1, 2, 3),  # too many
        encode_cursor("orders", -1, 2),  # below its range
        encode_cursor("orders", 1, BIGINT_MAX + 1),  # above
        _raw(["orders", 1.5, 2]),  # not integers
        _raw(["orders", True, 2]),
        _raw(["orders", "1", 2]),
        _raw({"orders": [1, 2]}),
        "abc",
        "",
        "!!!!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_anything_else_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor("orders", cursor, BOUNDS)
