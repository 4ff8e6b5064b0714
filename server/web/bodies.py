"""Reading a request body once, with a size cap, without a read loop when it is all there."""

from __future__ import annotations

from aiohttp import web


async def read_capped(request: web.BaseRequest, limit: int) -> bytes | None:
    """The whole body (decoded, when it has a Content-Encoding), or None when it is over
    `limit` bytes; a declared Content-Length over the limit is refused before any read.

    The intake lanes' common case is a body that arrived with its head: it is in the
    payload's buffer already, whole (the parser has seen its end), and is taken as it is,
    without aiohttp's read loop. A body still arriving is read in chunks, stopping as soon
    as it is over the limit."""
    length = request.content_length
    if length is not None and length > limit:
        return None
    content = request.content
    if content.is_eof():
        body = content.read_nowait()
        return body if len(body) <= limit else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
