"""Dramatiq messages as JSON through orjson (the stdlib encoder is several times slower).

The web process encodes every group commit (a flush of webhook payloads, a batch of pixel
events) into one message, on a thread that shares the interpreter with the event loop: the
encoder's speed is request throughput. Same wire format (JSON), so either side can read it.
"""

from __future__ import annotations

from typing import Any

import orjson
from dramatiq.encoder import Encoder
from dramatiq.errors import DecodeError


class OrjsonEncoder(Encoder):
    """JSON messages via orjson."""

    def encode(self, data: Any) -> bytes:
        return orjson.dumps(data)

    def decode(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise DecodeError(  # type: ignore[no-untyped-call]
                f"failed to decode message {data[:200]!r}", data, e
            ) from None
