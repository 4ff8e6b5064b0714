"""Helpers for the pixel tests: shops with a pixel, envelopes, draining the stub queue."""

from __future__ import annotations

import queue
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from models import Shop, WebPixel
from server.config import Config
from tests.helpers import install_shop


async def pixel_shop(config: Config, *, active: bool = True) -> tuple[Shop, WebPixel]:
    """An installed shop whose pixel is active (or deactivated), with its ingest key."""
    shop = await install_shop(config, f"px-{uuid.uuid4().hex[:12]}.myshopify.com")
    now = datetime.now(UTC)
    pixel = await WebPixel.create(
        shop=shop,
        ingest_key=secrets.token_urlsafe(24),
        web_pixel_id=f"gid://shopify/WebPixel/{secrets.randbelow(10**9)}",
        status="active" if active else "inactive",
        activated_at=now,
        deactivated_at=None if active else now,
    )
    return shop, pixel


def envelope(name: str = "page_viewed", **overrides: Any) -> dict[str, Any]:
    """A Web Pixels event as Shopify delivers it to a subscriber."""
    type_ = overrides.pop("type", None) or (
        "dom" if name in {"clicked", "form_submitted", "input_changed"} else "standard"
    )
    event: dict[str, Any] = {
        "id": f"sh-{uuid.uuid4()}",
        "name": name,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "clientId": "client-1",
        "seq": 1,
        "type": type_,
        "context": {
            "document": {
                "location": {
                    "href": "https://shop.example/products/a?variant=1",
                    "search": "?variant=1",
                },
                "referrer": "",
                "title": "A product",
            },
            "navigator": {"language": "en", "userAgent": "test"},
            "window": {"innerWidth": 1024},
        },
        "data": {},
    }
    event.update(overrides)
    return event


def checkout_completed(amount: float, currency: str = "EUR", **overrides: Any) -> dict[str, Any]:
    """A checkout_completed envelope with data.checkout.totalPrice as Shopify sends it."""
    return envelope(
        "checkout_completed",
        data={
            "checkout": {
                "currencyCode": currency,
                "totalPrice": {"amount": amount, "currencyCode": currency},
                "order": {"id": str(uuid.uuid4())},
            }
        },
        **overrides,
    )


def queued(broker: StubBroker, queue_name: str = "pixel") -> list[Message[Any]]:
    """The messages waiting in a stub queue (left in place)."""
    pending: queue.Queue[bytes] = broker.queues[queue_name]
    return [Message.decode(raw) for raw in list(pending.queue)]


async def drain_pixel_queue(broker: StubBroker) -> int:
    """Run every pixel message waiting in the stub queue through the real pipeline code.

    The pipeline's coroutines run on the test's loop (where the app's database pool lives);
    messages they send (aggregation) land in the same queue and are run too.
    """
    from actors.pixel import aggregate_days, persist_events

    pending: queue.Queue[bytes] = broker.queues["pixel"]
    handled = 0
    while True:
        try:
            raw = pending.get_nowait()
        except queue.Empty:
            return handled
        message = Message.decode(raw)
        if message.actor_name == "persist_pixel_events":
            await persist_events(*message.args)
        elif message.actor_name == "aggregate_pixel_days":
            await aggregate_days(*message.args)
        else:
            raise AssertionError(f"unexpected actor {message.actor_name}")
        pending.task_done()
        handled += 1


async def clear_rate_limits(redis_client: Any) -> None:
    """Forget every pixel rate-limit bucket (they outlive a test run in a shared Redis)."""
    async for key in redis_client.scan_iter(match="ratelimit:pixel:*", count=1000):
        await redis_client.delete(key)
