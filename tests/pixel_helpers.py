"""Helpers for the pixel tests: shops with a pixel, envelopes, running the pipeline."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from models import PixelEvent, PixelPending, Shop, WebPixel
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


async def run_pixel_pipeline(stub_worker: Any) -> None:
    """The pipeline as production runs it: the `aggregate_pixel_inbox` actor (what ingest's
    wake-up sends), taken by a Dramatiq worker (conftest's `stub_worker`) until the inbox
    owes nothing."""
    from actors.pixel import aggregate_pixel_inbox

    await asyncio.to_thread(aggregate_pixel_inbox.send)  # send is blocking I/O
    await stub_worker.drain("pixel")


async def aggregate_step() -> dict[str, int]:
    """One aggregation step (the function the actor calls), on the test's loop, for tests of
    what a step reports (rows, events, failed)."""
    from server.pixel.pipeline import aggregate_inbox

    return await aggregate_inbox()


async def stored_nothing() -> bool:
    """No event and no pipeline work was committed."""
    return await PixelEvent.all().count() == 0 and await PixelPending.all().count() == 0


async def clear_rate_limits(redis_client: Any) -> None:
    """Forget every pixel rate-limit bucket (they outlive a test run in a shared Redis)."""
    async for key in redis_client.scan_iter(match="ratelimit:pixel:*", count=1000):
        await redis_client.delete(key)
