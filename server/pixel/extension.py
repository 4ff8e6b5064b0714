"""Managing the shop's Web Pixel: activate (webPixelCreate/Update), status, deactivate."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery

from models import Shop, WebPixel, WebPixelVersion
from models.pixel import PIXEL_STATUS_ACTIVE, PIXEL_STATUS_INACTIVE
from server.pixel.ingest import IngestKeys
from server.shopify import (
    ShopCredentials,
    ShopifyClient,
    ShopifyUserError,
)
from server.uninstall_steps import UNINSTALL_STEPS

log = logging.getLogger(__name__)

INGEST_KEY_BYTES = 24


def new_ingest_key() -> str:
    """A random public ingest key (the pixel's `accountID` setting)."""
    return secrets.token_urlsafe(INGEST_KEY_BYTES)


INGEST_PATH = "/pixel/events"


def ingest_url(app_url: str) -> str:
    """Where the pixel posts: the public base URL (SHOPIFY_APP_URL) plus the ingest path."""
    return app_url.rstrip("/") + INGEST_PATH


def pixel_settings(pixel: WebPixel, *, app_url: str) -> dict[str, str]:
    """The settings webPixelCreate/Update get; they match shopify.extension.toml's schema.

    The ingest URL travels in the settings so one build of the extension serves every
    environment: each backend tells its pixels where to post.
    """
    return {"accountID": pixel.ingest_key, "ingestUrl": ingest_url(app_url)}


async def _pixel_for(shop: Shop) -> WebPixel:
    pixel = await WebPixel.get_or_none(shop_id=shop.id)
    if pixel is not None:
        return pixel
    try:
        return await WebPixel.create(shop_id=shop.id, ingest_key=new_ingest_key())
    except IntegrityError:
        # A concurrent activation made it first.
        return await WebPixel.get(shop_id=shop.id)


def _is_code(error: ShopifyUserError, code: str) -> bool:
    return any(isinstance(e, dict) and e.get("code") == code for e in error.user_errors)


async def activate(
    shop: Shop, *, shopify: ShopifyClient, creds: ShopCredentials, app_url: str
) -> WebPixel:
    """Create (or update) the shop's web pixel with our settings, then mark it active."""
    pixel = await _pixel_for(shop)
    settings = pixel_settings(pixel, app_url=app_url)
    remote: dict[str, Any] | None = None
    if pixel.web_pixel_id:
        try:
            remote = await shopify.update_web_pixel(creds, pixel.web_pixel_id, settings)
        except ShopifyUserError as e:
            if not _is_code(e, "NOT_FOUND"):
                raise
            remote = None  # deleted on Shopify's side: create it again below
    if remote is None:
        try:
            remote = await shopify.create_web_pixel(creds, settings)
        except ShopifyUserError as e:
            if not _is_code(e, "TAKEN"):
                raise
            # The app already has a pixel on the shop (made before we stored its id).
            existing = await shopify.get_web_pixel(creds)
            if existing is None:
                raise
            remote = await shopify.update_web_pixel(creds, str(existing["id"]), settings)
    now = datetime.now(UTC)
    pixel.web_pixel_id = str(remote["id"])
    pixel.settings = settings
    pixel.status = PIXEL_STATUS_ACTIVE
    pixel.activated_at = now
    await pixel.save()
    return pixel


async def mark_inactive(pixel: WebPixel, ingest_keys: IngestKeys | None = None) -> None:
    """Stop accepting the pixel's key (in this process at once; elsewhere within the TTL)."""
    pixel.status = PIXEL_STATUS_INACTIVE
    pixel.deactivated_at = datetime.now(UTC)
    await pixel.save(update_fields=["status", "deactivated_at", "updated_at"])
    if ingest_keys is not None:
        ingest_keys.forget(pixel.ingest_key)


async def deactivate(
    shop: Shop, *, shopify: ShopifyClient, creds: ShopCredentials, ingest_keys: IngestKeys
) -> WebPixel | None:
    """Delete the web pixel on Shopify and stop accepting its ingest key."""
    pixel = await WebPixel.get_or_none(shop_id=shop.id)
    if pixel is None:
        return None
    # Locally first: the key must stop working even if Shopify's delete fails.
    await mark_inactive(pixel, ingest_keys)
    if pixel.web_pixel_id:
        try:
            await shopify.delete_web_pixel(creds, pixel.web_pixel_id)
        except ShopifyUserError as e:
            if not _is_code(e, "NOT_FOUND"):
                raise
        pixel.web_pixel_id = None
        await pixel.save(update_fields=["web_pixel_id", "updated_at"])
    return pixel


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def describe(shop: Shop) -> dict[str, Any]:
    """The GET /api/extension body: status, version, last event and version history."""
    pixel = await WebPixel.get_or_none(shop_id=shop.id)
    if pixel is None:
        return {
            "status": "not_created",
            "version": None,
            "web_pixel_id": None,
            "last_event_at": None,
            "activated_at": None,
            "deactivated_at": None,
            "versions": [],
        }
    versions = await WebPixelVersion.filter(web_pixel_id=pixel.id).order_by("-last_seen_at")
    return {
        "status": pixel.status,
        "version": pixel.version,
        "web_pixel_id": pixel.web_pixel_id,
        "last_event_at": _iso(pixel.last_event_at),
        "activated_at": _iso(pixel.activated_at),
        "deactivated_at": _iso(pixel.deactivated_at),
        "versions": [
            {
                "version": v.version,
                "first_seen_at": _iso(v.first_seen_at),
                "last_seen_at": _iso(v.last_seen_at),
            }
            for v in versions
        ],
    }


@UNINSTALL_STEPS.register("pixel")
async def deactivate_pixel(shop: str) -> None:
    """The shop's web pixel stops being active; its ingest key is refused from now on."""
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await WebPixel.filter(shop_id__in=of_shop, status=PIXEL_STATUS_ACTIVE).update(
        status=PIXEL_STATUS_INACTIVE, deactivated_at=datetime.now(UTC)
    )
