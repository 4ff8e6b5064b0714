"""The install flow end to end: web app, real Redis broker, real worker, fake Shopify."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Shop
from tests.helpers import bearer, eventually

ROOT = Path(__file__).resolve().parent.parent
SHOP = "acme-store.myshopify.com"


@pytest.mark.worker
async def test_token_exchange_then_worker_records_the_shop_profile(
    fake, make_config, make_worker_client, start_worker
):
    fake.add_shop(SHOP)
    overrides = {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SCOPES": "read_products,read_orders,read_customers,write_pixels",
    }
    config = make_config(**overrides)
    client = await make_worker_client(config)
    worker = start_worker(overrides)
    response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
    assert response.status == 200, await response.text()
    expected = fake.shop(SHOP).data.shop["name"]

    async def profiled() -> Shop | None:  # the worker writes the shop's name
        shop = await Shop.get(domain=SHOP)
        return shop if shop.name else None

    shop = await eventually(profiled, what="the shop's profile recorded", process=worker)
    assert shop.name == expected
    assert shop.currency_code
    assert await worker.stop_async() == 0, worker.output[-3000:]
