"""`python -m tests.fake_shopify --port N`: run the fake for local trials."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from tests.fake_shopify.server import FakeShopify


def main() -> None:
    """Parse flags, seed shops, print one token per shop, serve until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Shopify (OAuth + GraphQL Admin API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--api-key", default="fake-api-key")
    parser.add_argument("--api-secret", default="fake-api-secret-0123456789abcdef0123")
    parser.add_argument("--shop", action="append", default=[], help="shop domain (repeatable)")
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--restore-rate", type=float, default=100.0)
    parser.add_argument("--bucket-max", type=float, default=2000.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    fake = FakeShopify(
        api_key=args.api_key,
        api_secret=args.api_secret,
        restore_rate=args.restore_rate,
        bucket_max=args.bucket_max,
    )
    for domain in args.shop or ["demo-shop.myshopify.com"]:
        fake.add_shop(
            domain,
            seed=args.seed,
            products=args.products,
            orders=args.orders,
            customers=args.customers,
        )
        token = fake.issue_token(domain)
        logging.getLogger(__name__).info("shop %s token %s", domain, token)
    origin = f"http://{args.host}:{args.port}/{{shop}}"
    logging.getLogger(__name__).info("SHOPIFY_ADMIN_ORIGIN=%s", origin)
    web.run_app(fake.app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
