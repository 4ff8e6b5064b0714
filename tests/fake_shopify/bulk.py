"""Bulk operations: bulkOperationRunQuery / Cancel, the background job, the JSONL file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from graphql import GraphQLError, execute_sync, parse, validate

from tests.fake_shopify.data import Node
from tests.fake_shopify.engine import ExecContext, bulk_lines, field_resolver, type_resolver
from tests.fake_shopify.state import FakeShop, FakeState, _now


class BulkOperations(FakeState):
    """Bulk queries run in a background task and write a JSONL file served at `/_bulk/`."""

    def _bulk_run(self, shop: FakeShop, origin: str, query: str, groupObjects: bool) -> Node:
        if any(op["status"] in ("CREATED", "RUNNING") for op in shop.bulk_operations.values()):
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "code": "OPERATION_IN_PROGRESS",
                        "field": None,
                        "message": "A bulk query operation for this app and shop is already in "
                        "progress.",
                    }
                ],
            }
        try:
            document = parse(query)
        except GraphQLError as e:
            return {
                "bulkOperation": None,
                "userErrors": [{"code": "INVALID", "field": ["query"], "message": e.message}],
            }
        errors = validate(self.schema, document)
        if errors:
            self.invalid_operations.append((query, [e.message for e in errors]))
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"code": "INVALID", "field": ["query"], "message": errors[0].message}
                ],
            }
        operation_id = self._new_id(shop, "BulkOperation")
        operation: Node = {
            "__typename": "BulkOperation",
            "id": operation_id,
            "status": "CREATED",
            "type": "QUERY",
            "query": query,
            "errorCode": None,
            "createdAt": _now(),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
        }
        shop.bulk_operations[operation_id] = operation
        outcome, shop.bulk_outcome = shop.bulk_outcome, None
        task = asyncio.get_running_loop().create_task(
            self._bulk_job(shop, operation, document, origin, outcome)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"bulkOperation": operation, "userErrors": []}

    def _bulk_cancel(self, shop: FakeShop, id: str) -> Node:
        operation = shop.bulk_operations.get(id)
        if operation is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        if operation["status"] in ("CREATED", "RUNNING"):
            operation["status"] = "CANCELING"
        return {"bulkOperation": operation, "userErrors": []}

    async def _bulk_job(
        self, shop: FakeShop, operation: Node, document: Any, origin: str, outcome: str | None
    ) -> None:
        operation["status"] = "RUNNING"
        if shop.bulk_gate is not None:
            await shop.bulk_gate.wait()
        if operation["status"] == "CANCELING" or outcome == "CANCELED":
            operation.update(status="CANCELED", completedAt=_now())
            return
        if outcome == "FAILED":
            operation.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR", completedAt=_now())
            return
        number = operation["id"].rsplit("/", 1)[-1]
        path = self.bulk_dir / f"{shop.domain}-{number}.jsonl"
        counts = await asyncio.to_thread(self._write_bulk_file, shop, document, path)
        if outcome == "EXPIRED":
            operation.update(status="EXPIRED", completedAt=_now())
            return
        operation.update(
            status="COMPLETED",
            completedAt=_now(),
            objectCount=str(counts[0]),
            rootObjectCount=str(counts[1]),
            fileSize=str(path.stat().st_size),
            url=f"{origin}/_bulk/{shop.domain}/{path.name}",
        )

    def _write_bulk_file(self, shop: FakeShop, document: Any, path: Path) -> tuple[int, int]:
        result = execute_sync(
            self.schema,
            document,
            root_value=self._root(shop, ""),
            context_value=ExecContext(bulk=True),
            field_resolver=field_resolver,
            type_resolver=type_resolver,
        )
        objects = roots = 0
        with path.open("wb") as out:
            for line in bulk_lines(result.data or {}):
                objects += 1
                roots += "__parentId" not in line
                out.write(orjson.dumps(line) + b"\n")
        return objects, roots

    async def _bulk_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.bulk_dir / name
        if "/" in name or not name.startswith(request.match_info["shop"]) or not path.is_file():
            return web.Response(status=404, text="NoSuchKey")
        return web.FileResponse(path, headers={"Content-Type": "application/jsonl"})
