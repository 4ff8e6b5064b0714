"""The real app served on a loopback port from a thread of its own, for synchronous clients
(schemathesis, hypothesis, raw sockets): the same runner `python -m server` uses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web

from server.config import Config

T = TypeVar("T")


def unlimited(config: Config) -> Config:
    """The config with every rate limit far out of a fuzzer's reach (they have their own tests)."""
    big = 10**9
    return replace(
        config,
        rate_limits=replace(
            config.rate_limits,
            auth_ip_per_s=big,
            auth_ip_burst=big,
            api_shop_per_s=big,
            api_shop_burst=big,
            webhook_shop_per_s=big,
            webhook_shop_burst=big,
            proxy_shop_per_s=big,
            proxy_shop_burst=big,
            ext_shop_per_s=big,
            ext_shop_burst=big,
            flow_shop_per_s=big,
            flow_shop_burst=big,
            ip_per_s=big,
            ip_burst=big,
        ),
        pixel=replace(
            config.pixel,
            ip_requests_per_s=big,
            ip_burst_requests=big,
            shop_events_per_s=big,
            shop_burst_events=big,
        ),
    )


class ServedApp:
    """`with ServedApp(config, broker) as served:` the app at `served.url` until the block ends."""

    def __init__(self, config: Config, broker: Any, *, shopify: Any = None) -> None:
        self.config = config
        self.shopify = shopify  # a FakeShopify to serve on the same loop, and point the app at
        self.broker = broker
        self.url = ""
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="served-app", daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        assert self.url, "the app did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the app's loop (its database and Redis pools) and wait for it."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(60)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # surfaced to the test by __enter__
            self._error = e
            self._ready.set()

    async def _serve(self) -> None:
        from server.web.app import create_app
        from server.web.edge import make_runner

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        fake_runner = None
        if self.shopify is not None:
            fake_runner = web.AppRunner(self.shopify.app(), access_log=None)
            await fake_runner.setup()
            fake_site = web.TCPSite(fake_runner, "127.0.0.1", 0)
            await fake_site.start()
            fake_port = fake_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.shopify.base_url = f"http://127.0.0.1:{fake_port}"
            self.config = replace(
                self.config,
                shopify=replace(self.config.shopify, admin_origin=self.shopify.admin_origin),
            )
        self.app = create_app(self.config, broker=self.broker)
        runner = make_runner(self.app, self.config.limits, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            if fake_runner is not None:
                await self.shopify.close()
                await fake_runner.cleanup()
