"""What `customers/redact` does to the rows other flows keep of the customer: each flow's step.

The privacy flow erases what every model's privacy rule names (server/privacy/requests.py);
rows no rule can reach (the pixel pipeline's first-seen browsers, stored webhook payloads
that name the customer) are erased by the flow that owns them, in a step it registers here
at import (`@CUSTOMER_REDACT_STEPS.register(name)`; server/flows.py imports every flow).
Each step runs in the redaction's transaction, so it commits with the rest or not at all,
and is idempotent: a retry redoes nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from server.registry import HandlerRegistry


@dataclass(frozen=True, slots=True)
class RedactedCustomer:
    """Who is redacted: the request's identifiers, and the values the privacy rules linked
    to the customer's rows (`("client_id", "...")`: a browser of theirs)."""

    domain: str
    shop_id: int | None  # None: the shop is not (or no longer) installed here
    id: int | None
    email: str | None
    phone: str | None
    order_ids: tuple[int, ...]
    linked: frozenset[tuple[str, str]]


# (the redaction's transaction, the customer) -> rows changed, by table
CustomerRedactStep = Callable[[BaseDBAsyncClient, RedactedCustomer], Awaitable[dict[str, int]]]

CUSTOMER_REDACT_STEPS: HandlerRegistry[str, CustomerRedactStep] = HandlerRegistry(
    "customers/redact step"
)
