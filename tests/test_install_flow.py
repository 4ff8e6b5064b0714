"""The install flow end to end: web app, real Redis broker, real worker, fake Shopify."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from models import Shop
from server.web.app import create_app
from tests.helpers import WorkerProcess, bearer

ROOT = Path(__file__).resolve().parent.parent
SHOP = "acme-store.myshopify.com"


@pytest.mark.worker
async def test_token_exchange_then_worker_records_the_shop_profile(
    base_env, fake, make_config, aiohttp_client
):
    fake.add_shop(SHOP)
    overrides = {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SCOPES": "read_products,read_orders,read_customers,write_pixels",
    }
    config = make_config(**overrides)
    from actors.broker import setup_broker

    broker = setup_broker(config)
    client = await aiohttp_client(create_app(config, broker=broker))
    with WorkerProcess({**base_env, **overrides}) as worker:
        try:
            response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
            assert response.status == 200, await response.text()
            expected = fake.shop(SHOP).data.shop["name"]
            # Wait on the effect itself: the worker writes the shop's name.
            shop = await Shop.get(domain=SHOP)
            for _ in range(300):
                shop = await Shop.get(domain=SHOP)
                if shop.name or not worker.alive():
                    break
                await asyncio.sleep(0.1)
            assert shop.name == expected
            assert shop.currency_code
        finally:
            broker.close()
        assert await worker.stop_async() == 0, worker.output[-3000:]
