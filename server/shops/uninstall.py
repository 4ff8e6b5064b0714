"""What `app/uninstalled` does: revoke the shop's access, then every flow's uninstall step.

The steps are server/uninstall_steps.py's registry (each flow registers its own; see there).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import Subquery

from models.shop import Shop
from models.staff import OnlineToken
from server.actor_names import PROCESS_LIFECYCLE_WEBHOOKS
from server.uninstall_steps import UNINSTALL_STEPS
from server.webhook_topics import Topic, register_topics, requested_at

log = logging.getLogger(__name__)


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


@UNINSTALL_STEPS.register("online tokens")
async def drop_online_tokens(shop: str) -> None:
    """Staff members' online tokens go with the offline ones (Shopify revoked them all)."""
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await OnlineToken.filter(shop_id__in=of_shop).delete()


async def uninstall_shop(shop: str, delivery: dict[str, Any] | None) -> None:
    """Revoke the shop's access and run every UNINSTALL_STEPS, unless a reinstall superseded it."""
    if not await revoke_shop_access(shop, uninstalled_at=requested_at(delivery)):
        # No such shop, or a late copy of an uninstall that a reinstall already superseded.
        log.info("app/uninstalled changed nothing", extra={"shop": shop})
        return
    for step in UNINSTALL_STEPS.handlers():
        await step(shop)
    log.info("shop uninstalled", extra={"shop": shop})


async def _uninstalled(_t: str, shop: str, _p: dict[str, Any], delivery: dict[str, Any]) -> None:
    await uninstall_shop(shop, delivery)


# The app's own lifecycle.
register_topics({"app/uninstalled": Topic(_uninstalled, PROCESS_LIFECYCLE_WEBHOOKS, in_order=True)})
