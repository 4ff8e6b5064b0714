"""Headless Chromium driven over the DevTools protocol, for the app home's browser tests.

The same Debian `chromium` the Web Pixel test runs, with `--remote-debugging-port=0`; the
protocol is spoken over the app's own aiohttp websocket client, so no browser-automation
package is needed. `Page.route` answers requests the test stands in for (Shopify's CDN,
Shopify's authorize page, injected API faults) through the Fetch domain; everything else
goes to the real app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import re
import shutil
import struct
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import orjson

# Headless Chromium as every browser test of the suite runs it.
HEADLESS_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
CHROMIUM_FLAGS = [
    *HEADLESS_FLAGS,
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
# For tests that frame the app: iframes stay in the page's process (so the page's session
# sees and routes their requests), and loopback may be framed by a public https origin
# (Shopify's admin, stood in for by `route`). Content-Security-Policy is enforced as ever.
IN_PROCESS_FRAMES = [
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process,BlockInsecurePrivateNetworkRequests,"
    "PrivateNetworkAccessForNavigations,PrivateNetworkAccessForIframes,LocalNetworkAccessChecks,"
    "LocalNetworkAccessChecksForIframes",
]
COMMAND_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0


def chromium_path() -> str:
    """Debian's chromium; the suite needs it (README: install it with the venv)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is required (apt-get install -y chromium)"
    return path


class CDPError(Exception):
    """The browser answered a command with an error."""


@dataclass
class Reply:
    """A response the test gives instead of the network."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[dict[str, Any]], Awaitable[Reply | None]]


class Chromium:
    """`async with Chromium(profile_dir) as browser:` one headless browser process."""

    def __init__(
        self,
        profile_dir: Path,
        *,
        window: tuple[int, int] = (1280, 1800),
        extra_flags: list[str] | None = None,
    ) -> None:
        self.profile_dir = profile_dir
        self.extra_flags = extra_flags or []
        self.window = window
        self.process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[tuple[str, str | None], list[Callable[[dict[str, Any]], Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.stderr_tail = b""

    async def __aenter__(self) -> Chromium:
        self.process = await asyncio.create_subprocess_exec(
            chromium_path(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.profile_dir}",
            f"--window-size={self.window[0]},{self.window[1]}",
            *self.extra_flags,
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        url = await asyncio.wait_for(self._devtools_url(), START_TIMEOUT_S)
        self._spawn(self._drain_stderr())
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(url, max_msg_size=0)
        self._spawn(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self.send("Browser.close")
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        for task in self._tasks:
            task.cancel()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _devtools_url(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr_tail = (self.stderr_tail + line)[-4000:]
            match = re.search(rb"DevTools listening on (ws://\S+)", line)
            if match:
                return match.group(1).decode()
        raise RuntimeError(f"chromium exited: {self.stderr_tail.decode(errors='replace')}")

    async def _drain_stderr(self) -> None:
        # Keep reading so a chatty browser never blocks on a full pipe.
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr_tail = (self.stderr_tail + line)[-4000:]

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = orjson.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is None or future.done():
                    continue
                if "error" in data:
                    future.set_exception(CDPError(data["error"]))
                else:
                    future.set_result(data.get("result", {}))
                continue
            key = (data.get("method", ""), data.get("sessionId"))
            for listener in self._listeners.get(key, []):
                result = listener(data.get("params", {}))
                if asyncio.iscoroutine(result):
                    self._spawn(result)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CDPError("the browser closed the connection"))

    def on(
        self, method: str, listener: Callable[[dict[str, Any]], Any], session_id: str | None = None
    ) -> None:
        """Call `listener(params)` for every event `method` (of a page session, or the browser)."""
        self._listeners.setdefault((method, session_id), []).append(listener)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        """One protocol command; its result."""
        assert self._ws is not None
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        await self._ws.send_str(orjson.dumps(message).decode())  # the protocol is text frames
        return await asyncio.wait_for(future, COMMAND_TIMEOUT_S)

    async def new_page(self) -> Page:
        """A new tab, attached."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        page.watch_console()
        return page

    async def allow_downloads(self, directory: Path) -> asyncio.Queue[dict[str, Any]]:
        """Downloads land in `directory`; the queue gets every finished download's event."""
        finished: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def progress(params: dict[str, Any]) -> None:
            if params.get("state") == "completed":
                finished.put_nowait(params)

        self.on("Browser.downloadProgress", progress)
        await self.send(
            "Browser.setDownloadBehavior",
            {"behavior": "allowAndName", "downloadPath": str(directory), "eventsEnabled": True},
        )
        return finished


class Page:
    """One tab: navigate, evaluate, wait for a condition in the page, click, screenshot."""

    def __init__(self, browser: Chromium, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.console: list[str] = []

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One protocol command in this tab's session."""
        return await self.browser.send(method, params, self.session_id)

    def watch_console(self) -> None:
        """Keep console messages and uncaught errors (shown when a wait fails)."""

        def console(params: dict[str, Any]) -> None:
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append(f"{params['type']}: {args}")

        def exception(params: dict[str, Any]) -> None:
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.console.append(f"exception: {text}")

        self.browser.on("Runtime.consoleAPICalled", console, self.session_id)
        self.browser.on("Runtime.exceptionThrown", exception, self.session_id)

    async def route(self, patterns: list[str], handler: Handler) -> None:
        """Requests matching `patterns` go to `handler`: a Reply answers, None lets it through."""

        async def paused(params: dict[str, Any]) -> None:
            try:
                reply = await handler(params["request"])
            except Exception as e:
                # Not lost in a background task: the request fails and the test says why.
                self.console.append(f"exception: route handler: {e!r}")
                await self.send(
                    "Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "Failed"}
                )
                raise
            if reply is None:
                await self.send("Fetch.continueRequest", {"requestId": params["requestId"]})
                return
            await self.send(
                "Fetch.fulfillRequest",
                {
                    "requestId": params["requestId"],
                    "responseCode": reply.status,
                    "responseHeaders": [{"name": k, "value": v} for k, v in reply.headers.items()],
                    "body": base64.b64encode(reply.body).decode(),
                },
            )

        self.browser.on("Fetch.requestPaused", paused, self.session_id)
        await self.send("Fetch.enable", {"patterns": [{"urlPattern": p} for p in patterns]})

    async def goto(self, url: str) -> None:
        """Start loading `url` (wait for what the test needs with `wait_in_page`)."""
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {result['errorText']}")

    async def frames(self) -> list[dict[str, Any]]:
        """The page's child frames (`url`, and `unreachableUrl` when one was refused)."""
        tree = await self.send("Page.getFrameTree")
        return [child["frame"] for child in tree["frameTree"].get("childFrames", [])]

    async def frame_context(self, url_prefix: str) -> int:
        """An execution context in the child frame showing `url_prefix...` (shares its DOM)."""
        frame = next(f for f in await self.frames() if f["url"].startswith(url_prefix))
        world = await self.send("Page.createIsolatedWorld", {"frameId": frame["id"]})
        return int(world["executionContextId"])

    async def evaluate(self, expression: str, *, context_id: int | None = None) -> Any:
        """The value of a JavaScript expression (promises awaited), in the page or a frame."""
        params: dict[str, Any] = {
            "expression": expression,
            "awaitPromise": True,
            "returnByValue": True,
        }
        if context_id is not None:
            params["contextId"] = context_id
        result = await self.send("Runtime.evaluate", params)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    async def wait_in_page(
        self, condition: str, *, timeout_s: float = 20.0, context_id: int | None = None
    ) -> Any:
        """Wait, in the page, until the JavaScript `condition` is truthy; returns its value.

        A DOM wait that runs inside the page (no round trip per try); for effects outside the
        page (rows, processes) use tests.helpers.eventually."""
        script = f"""new Promise((resolve, reject) => {{
            const deadline = Date.now() + {int(timeout_s * 1000)};
            const check = () => {{
                let value;
                try {{ value = ({condition}); }} catch (e) {{ value = undefined; }}
                if (value) return resolve(value);
                if (Date.now() > deadline) return reject(new Error('timed out'));
                setTimeout(check, 25);
            }};
            check();
        }})"""
        try:
            return await self.evaluate(script, context_id=context_id)
        except CDPError as e:
            text = await self.evaluate(
                "document.body ? document.body.innerText : ''", context_id=context_id
            )
            raise AssertionError(
                f"page never had {condition!r} ({e}); page text: {str(text)[:3000]};"
                f" console: {self.console[-20:]}"
            ) from None

    async def text(self, selector: str) -> str:
        """The text of the first element matching `selector`."""
        value = await self.evaluate(
            f"(document.querySelector({orjson.dumps(selector).decode()}) || {{}}).textContent"
        )
        assert value is not None, f"no element {selector}"
        return str(value).strip()

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({orjson.dumps(selector).decode()});
                if (!el) return null;
                el.scrollIntoView({{block: 'center'}});
                const r = el.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width}};
            }})()"""
        )
        assert box and box["w"] > 0, f"nothing visible to click at {selector}"
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    async def screenshot(self, path: Path) -> bytes:
        """A PNG of the whole page, written to `path`."""
        shot = await self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        data = base64.b64decode(shot["data"])
        path.write_bytes(data)
        return data


def png_colours(data: bytes) -> Counter[bytes]:
    """Pixel colours of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat = 8, b""
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: Counter[bytes] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        if y % 4 == 0:  # every fourth row is plenty to tell a page from a blank
            colours.update(bytes(line[x : x + 3]) for x in range(0, stride, channels * 4))
        previous = line
    return colours
