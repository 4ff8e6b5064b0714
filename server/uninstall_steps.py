"""What `app/uninstalled` does beyond revoking the shop's access: each flow's step.

A flow registers its step at import (`@UNINSTALL_STEPS.register(name)`): the syncs stop
(server/sync/runs.py), the pixel goes inactive (server/pixel/extension.py), billing ends
(server/billing/state.py), staff tokens go (server/shops/uninstall.py); server/flows.py
imports every flow, so the list is whole before a delivery is applied. Each step takes the
shop's domain, is idempotent (Shopify may deliver app/uninstalled more than once) and must
not need the shop's token (it is revoked by the time we hear of it). A failing step fails
the message and every step runs again on the retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.registry import HandlerRegistry

UninstallStep = Callable[[str], Awaitable[None]]

UNINSTALL_STEPS: HandlerRegistry[str, UninstallStep] = HandlerRegistry("uninstall step")
