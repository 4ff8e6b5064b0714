"""Bulk operations: start a bulk query, wait for it, and stream its JSONL result.

The result is downloaded from a pre-signed URL on another host, without the Admin API token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import orjson

from server.shopify import operations as ops
from server.shopify.errors import BulkOperationError
from server.shopify.transport import GraphQLTransport, JsonObject, ShopCredentials

_BULK_FAILED_STATES = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})


@dataclass(slots=True)
class BulkRecord:
    """One top-level object of a bulk result with its `__parentId` descendants."""

    node: JsonObject
    children: list[JsonObject]


class BulkOperations(GraphQLTransport):
    """The bulk-operation calls of `ShopifyClient`."""

    async def run_bulk_query(
        self, creds: ShopCredentials, bulk_query: str, *, group_objects: bool = True
    ) -> JsonObject:
        """Start a bulk query; return the new BulkOperation (id, status)."""
        payload = await self.mutate(
            creds,
            ops.BULK_OPERATION_RUN_QUERY,
            {"query": bulk_query, "groupObjects": group_objects},
            payload_field="bulkOperationRunQuery",
        )
        operation: JsonObject = payload["bulkOperation"]
        return operation

    async def get_bulk_operation(self, creds: ShopCredentials, operation_id: str) -> JsonObject:
        """The current state of one bulk operation."""
        data = await self.query(creds, ops.BULK_OPERATION, {"id": operation_id})
        operation = data.get("bulkOperation")
        if not isinstance(operation, dict):
            raise BulkOperationError(
                f"bulk operation {operation_id} not found",
                shop=creds.shop,
                operation="BulkOperation",
            )
        return operation

    async def wait_for_bulk_operation(
        self,
        creds: ShopCredentials,
        operation_id: str,
        *,
        timeout_s: float,
        poll_interval_s: float | None = None,
        on_poll: Callable[[], Awaitable[object]] | None = None,
    ) -> JsonObject:
        """Poll until COMPLETED and return the operation; raise on failure or timeout.

        `on_poll` runs after every poll that found the job still going (e.g. a heartbeat).
        """
        interval_s = self.bulk_poll_interval_s if poll_interval_s is None else poll_interval_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            operation = await self.get_bulk_operation(creds, operation_id)
            status = operation.get("status")
            if status == "COMPLETED":
                return operation
            if status in _BULK_FAILED_STATES:
                raise BulkOperationError(
                    f"bulk operation {operation_id} ended {status}"
                    f" (errorCode={operation.get('errorCode')})",
                    shop=creds.shop,
                    operation="BulkOperation",
                    status=str(status),
                    error_code=operation.get("errorCode"),
                )
            if loop.time() + interval_s > deadline:
                raise BulkOperationError(
                    f"bulk operation {operation_id} still {status} after {timeout_s}s",
                    shop=creds.shop,
                    operation="BulkOperation",
                    status=str(status),
                )
            if on_poll is not None:
                await on_poll()
            await asyncio.sleep(interval_s)

    async def stream_bulk_lines(self, shop: str, url: str) -> AsyncIterator[JsonObject]:
        """Yield each JSONL object of a bulk result, reading it chunk by chunk."""
        # Download from the pre-signed URL without the Admin API token.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout_s, sock_read=self._timeout_s
        )
        try:
            async with self._session.get(url, timeout=timeout, ssl=True) as resp:
                if resp.status != 200:
                    raise BulkOperationError(
                        f"bulk result download answered HTTP {resp.status}",
                        shop=shop,
                        operation="BulkOperationResult",
                    )
                pending = b""
                async for chunk in resp.content.iter_chunked(self.bulk_read_chunk_bytes):
                    pending += chunk
                    lines = pending.split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        if line.strip():
                            yield orjson.loads(line)
                if pending.strip():
                    yield orjson.loads(pending)
        except aiohttp.ClientError as e:
            raise BulkOperationError(
                f"bulk result download failed: {type(e).__name__}",
                shop=shop,
                operation="BulkOperationResult",
            ) from e

    async def iter_bulk_records(self, shop: str, url: str) -> AsyncIterator[BulkRecord]:
        """Yield each top-level object with its descendants joined by `__parentId`.

        Needs a result produced with `groupObjects: true` (children right after their
        parent); holds one top-level object and its children at a time.
        """
        current: BulkRecord | None = None
        family: set[str] = set()
        async for obj in self.stream_bulk_lines(shop, url):
            parent_id = obj.get("__parentId")
            if parent_id is None:
                if current is not None:
                    yield current
                current = BulkRecord(node=obj, children=[])
                family = {str(obj.get("id"))}
                continue
            if current is None or parent_id not in family:
                raise BulkOperationError(
                    f"bulk result line with __parentId {parent_id} is not grouped under its"
                    " parent (run the query with groupObjects: true)",
                    shop=shop,
                    operation="BulkOperationResult",
                )
            current.children.append(obj)
            if "id" in obj:
                family.add(str(obj["id"]))
        if current is not None:
            yield current


__all__ = ["BulkOperations", "BulkRecord"]
