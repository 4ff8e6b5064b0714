"""Per-shop sync of Shopify data into PostgreSQL, the data API over it, and its cache.

Used by the web process (API, starting runs) and by workers (actors/sync.py runs them).
"""

from __future__ import annotations

from typing import Final, Literal

Resource = Literal["products", "orders", "customers"]
# What a sync run covers; transactions come with their orders.
RESOURCES: Final[tuple[Resource, ...]] = ("products", "orders", "customers")
# What the list API serves.
API_RESOURCES: Final[tuple[str, ...]] = ("products", "orders", "customers", "transactions")
