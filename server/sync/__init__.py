"""Per-shop sync of Shopify data into PostgreSQL, the data API over it, and its cache.

The flow, in one folder: `http.py` (the HTTP edge: data API lists, sync control),
`queries.py` (the lists' reads), `runs.py` (run records), `engine.py` (running one run:
paging or bulk, checkpointed, under a lease), `normalize.py` (Shopify objects to rows),
`store.py` (upserts and deletes), `changes.py` (data webhooks to upserts/deletes),
and `columns.py` (the synced columns, derived from the models); the API page cache is
server/page_cache.py.
Workers run it through the thin actors of actors/sync.py.
"""

from __future__ import annotations

from typing import Final, Literal

Resource = Literal["products", "orders", "customers"]
# What a sync run covers; transactions come with their orders.
RESOURCES: Final[tuple[Resource, ...]] = ("products", "orders", "customers")
