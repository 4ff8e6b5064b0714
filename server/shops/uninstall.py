"""What `app/uninstalled` does, as a list of steps other features plug into.

Each step takes the shop's domain, is idempotent (Shopify may deliver app/uninstalled more
than once) and must not need the shop's token (it is revoked by the time we hear of it).
Steps run in order; a failing step fails the message and the whole list is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import Subquery

from models.pixel import PIXEL_STATUS_ACTIVE, PIXEL_STATUS_INACTIVE, WebPixel
from models.shop import Shop
from models.staff import OnlineToken
from server.billing.state import end_shop_billing
from server.sync.runs import cancel_shop_syncs
from server.webhooks.delivery import requested_at

log = logging.getLogger(__name__)

UninstallStep = Callable[[str], Awaitable[None]]


async def revoke_shop_access(shop: str, *, uninstalled_at: datetime) -> bool:
    """Mark the shop uninstalled and delete its tokens, unless a later install superseded it.

    One statement, so a reinstall committing meanwhile is never wiped: the check and the
    write are the same row lock. False when nothing was revoked (no such shop, or it was
    installed again after `uninstalled_at`).
    """
    now = datetime.now(UTC)
    revoked, _ = await Tortoise.get_connection("default").execute_query(
        """
        UPDATE shops SET
            uninstalled_at = COALESCE(uninstalled_at, $2),
            access_token_enc = NULL,
            refresh_token_enc = NULL,
            access_token_expires_at = NULL,
            refresh_token_expires_at = NULL,
            needs_reauth = false,
            updated_at = $2
        WHERE domain = $1
          AND NOT (uninstalled_at IS NULL AND installed_at IS NOT NULL AND installed_at > $3)
        """,
        [shop, now, uninstalled_at],
    )
    return revoked > 0


async def deactivate_pixel(shop: str) -> None:
    """The shop's web pixel stops being active; its ingest key is refused from now on."""
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await WebPixel.filter(shop_id__in=of_shop, status=PIXEL_STATUS_ACTIVE).update(
        status=PIXEL_STATUS_INACTIVE, deactivated_at=datetime.now(UTC)
    )


async def drop_online_tokens(shop: str) -> None:
    """Staff members' online tokens go with the offline ones (Shopify revoked them all)."""
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await OnlineToken.filter(shop_id__in=of_shop).delete()


# What follows the revocation (revoke_shop_access) of an uninstalled shop.
UNINSTALL_STEPS: tuple[UninstallStep, ...] = (
    drop_online_tokens,
    cancel_shop_syncs,
    deactivate_pixel,
    end_shop_billing,
)


async def uninstall_shop(shop: str, delivery: dict[str, Any] | None) -> None:
    """Revoke the shop's access and run UNINSTALL_STEPS, unless a reinstall superseded it."""
    if not await revoke_shop_access(shop, uninstalled_at=requested_at(delivery)):
        # No such shop, or a late copy of an uninstall that a reinstall already superseded.
        log.info("app/uninstalled changed nothing", extra={"shop": shop})
        return
    for step in UNINSTALL_STEPS:
        await step(shop)
    log.info("shop uninstalled", extra={"shop": shop})
