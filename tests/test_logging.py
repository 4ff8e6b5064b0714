"""JSON logs: fields, request context, rotation, and masking of anything token-like."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from server.config import MASK, LoggingConfig
from server.logs import _stop_listener, configure_logging, flush_logs, masker, shop_var

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
REFRESH = "shprt_fedcba9876543210fedcba9876543210"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJkZXN0IjoiaHR0cHM6Ly94In0.c2lnbmF0dXJlLXZhbHVl"
HMAC = "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"


@pytest.fixture(params=[False, True], ids=["inline", "listener-thread"])
def log_file(request, tmp_path: Path, config):
    """Route logging to a JSON file for the test, written inline or by the listener thread
    (logging.background); restore the root logger after."""
    path = tmp_path / "app.log"
    cfg = dataclasses.replace(config.logging, file=str(path), level="DEBUG")
    with _root_logger_restored():
        configure_logging(cfg, secrets=config.secret_values(), background=request.param)
        yield path


@contextlib.contextmanager
def _root_logger_restored() -> Iterator[logging.Logger]:
    """The root logger as the test found it, afterwards (the listener thread stopped)."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        yield root
    finally:
        _stop_listener()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def _lines(path: Path) -> list[dict]:
    flush_logs()
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_lines_are_json_with_the_standard_fields(log_file):
    token = shop_var.set("shop-1.myshopify.com")
    try:
        logging.getLogger("server.test").info("synced %d products", 3, extra={"resource": "p"})
    finally:
        shop_var.reset(token)
    (line,) = _lines(log_file)
    assert line["level"] == "INFO"
    assert line["logger"] == "server.test"
    assert line["message"] == "synced 3 products"
    assert line["shop"] == "shop-1.myshopify.com"
    assert line["resource"] == "p"
    assert line["time"].endswith("+00:00")


async def test_a_token_never_appears_through_any_path(log_file, make_client, config):
    log = logging.getLogger("server.test")
    secret = config.shopify.api_secret.reveal()
    fernet_key = config.security.token_encryption_keys[0].reveal()
    # 1. message, 2. %-args, 3. extra fields, 4. a traceback, 5. other libraries' loggers
    log.info("token is " + TOKEN)  # noqa: G003  (on purpose: the raw message path)
    log.info("tokens %s %s %s", TOKEN, REFRESH, JWT)
    log.info(
        "headers",
        extra={"headers": {"X-Shopify-Access-Token": TOKEN, "Authorization": f"Bearer {JWT}"}},
    )
    log.info("query: code=abc123def&hmac=%s&shop=x.myshopify.com", HMAC)
    log.info("secrets %s %s", secret, fernet_key)
    try:
        raise RuntimeError(f"refresh failed for {REFRESH} with {TOKEN}")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("dramatiq.worker").warning("message args: %r", {"access_token": TOKEN})
    logging.getLogger("aiohttp.client").error("url http://u:%s@host/ failed", secret)

    # 6. the access log and the error middleware, through a real request
    async def leak(request: web.Request) -> web.Response:
        raise RuntimeError(f"cannot use {TOKEN}")

    def setup(app: web.Application) -> None:
        app.router.add_get("/_test/leak/{anything}", leak)

    client = await make_client(config, setup=setup)
    response = await client.get(
        f"/_test/leak/{TOKEN}",
        params={"hmac": HMAC, "id_token": JWT},
        headers={"Authorization": f"Bearer {JWT}", "Cookie": f"s={TOKEN}"},
    )
    assert response.status == 500

    flush_logs()
    text = log_file.read_text()
    for leaked in (TOKEN, REFRESH, JWT, HMAC, secret, fernet_key, "abc123def"):
        assert leaked not in text
    assert text.count(MASK) >= 10
    messages = [line["message"] for line in _lines(log_file)]
    assert "boom" in messages
    assert any("unhandled error" in m for m in messages)
    access = [line for line in _lines(log_file) if line.get("status") == 500]
    assert access and access[0]["path"].startswith("/_test/leak/")
    assert access[0]["request_id"] == response.headers["X-Request-Id"]


def test_masker_leaves_ordinary_text_alone():
    text = 'GET /api/products 200 status_code: 200 "count": 5 session_id=abc'
    assert masker.mask(text) == text


def test_rotating_file_keeps_size_and_count(tmp_path):
    path = tmp_path / "rot.log"
    cfg = LoggingConfig(
        level="INFO",
        file=str(path),
        file_max_bytes=2048,
        file_backup_count=2,
        access_log=True,
        background=False,
    )
    with _root_logger_restored():
        configure_logging(cfg)
        for i in range(200):
            logging.getLogger("server.test").info("line %d %s", i, "x" * 50)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["rot.log", "rot.log.1", "rot.log.2"]
    assert all((tmp_path / f).stat().st_size <= 2048 + 200 for f in files)


async def test_the_listener_thread_writes_with_the_context_of_the_logging_call(tmp_path, config):
    import threading

    path = tmp_path / "bg.log"
    cfg = dataclasses.replace(config.logging, file=str(path), level="INFO")
    writers: list[str] = []
    with _root_logger_restored() as root:
        configure_logging(cfg, background=True)
        [queue_handler] = root.handlers
        assert isinstance(queue_handler, logging.handlers.QueueHandler)
        from server import logs

        [file_handler] = logs._listener.handlers
        emit = file_handler.emit

        def spy(record):
            writers.append(threading.current_thread().name)
            emit(record)

        file_handler.emit = spy
        token = shop_var.set("bg-shop.myshopify.com")
        try:
            logging.getLogger("server.test").info("with %s", "context")
            try:
                raise ValueError("why")
            except ValueError:
                logging.getLogger("server.test").exception("failed")
        finally:
            shop_var.reset(token)
        logging.getLogger("server.test").info("after")
        flush_logs()
    lines = [orjson.loads(x) for x in path.read_text().splitlines()]
    assert [x["message"] for x in lines] == ["with context", "failed", "after"]
    assert [x.get("shop") for x in lines] == ["bg-shop.myshopify.com"] * 2 + [None]
    assert "ValueError: why" in lines[1]["exc"]
    assert writers and threading.main_thread().name not in writers


async def test_access_lines_of_fixed_routes_skip_the_mask_and_others_keep_it(
    log_file, make_client, config, caplog
):
    caplog.set_level(logging.INFO)
    client = await make_client(config)
    await client.get("/healthz")
    await client.get(f"/nothing/{TOKEN}")
    lying = await client.get("/healthz", headers={"X-Request-Id": JWT})
    ours = await client.get("/healthz", headers={"X-Request-Id": "trace-123"})
    access = [line for line in _lines(log_file) if "status" in line and "path" in line]
    paths = [line["path"] for line in access]
    assert "/healthz" in paths
    assert TOKEN not in log_file.read_text() and f"/nothing/{MASK}" in paths
    # An id that looks like a token is not taken from the client (nor logged).
    assert lying.headers["X-Request-Id"] != JWT and JWT not in log_file.read_text()
    assert ours.headers["X-Request-Id"] == "trace-123"
    clean = {r.path: r._clean for r in caplog.records if hasattr(r, "_clean")}
    assert clean["/healthz"] is True and clean[f"/nothing/{TOKEN}"] is False


async def test_clean_access_lines_are_written_straight_to_stdout_as_the_formatter_writes(
    make_client, config, capsys, monkeypatch
):
    from server.logs import JsonFormatter

    formatted: list[str] = []
    format_ = JsonFormatter.format

    def spy(self, record):
        formatted.append(record.getMessage())
        return format_(self, record)

    monkeypatch.setattr(JsonFormatter, "format", spy)
    with _root_logger_restored():
        configure_logging(dataclasses.replace(config.logging, file=None, level="INFO"))
        client = await make_client(config)
        await client.get("/healthz", headers={"X-Request-Id": "trace-1"})
        await client.get(f"/nothing/{TOKEN}")
        logging.getLogger("server.test").info("through the formatter")
    out = capsys.readouterr().out
    lines = [orjson.loads(x) for x in out.splitlines() if x.startswith("{")]
    [health] = [x for x in lines if x.get("path") == "/healthz"]
    # The clean line skipped the LogRecord and the formatter, and reads as the formatter's.
    assert "GET /healthz 200" not in formatted
    assert health["message"] == "GET /healthz 200" and health["level"] == "INFO"
    assert health["request_id"] == "trace-1" and health["status"] == 200
    assert {"time", "logger", "duration_ms", "remote", "bytes", "method"} <= set(health)
    [other] = [x for x in lines if x.get("message") == "through the formatter"]
    assert set(other) >= {"time", "level", "logger", "message"}
    assert health["time"][:10] == other["time"][:10] and len(health["time"]) == len(other["time"])
    # A path a client chose still goes through the formatter and its masking.
    assert TOKEN not in out and f"GET /nothing/{TOKEN} 404" in formatted


def test_a_clean_line_goes_the_usual_way_when_a_logger_on_its_way_would_see_it(config, capsys):
    from server.logs import write_clean

    child = logging.getLogger("server.testclean.access")
    parent = logging.getLogger("server.testclean")
    with _root_logger_restored():
        configure_logging(dataclasses.replace(config.logging, file=None, level="INFO"))
        assert write_clean(child, "GET / 200", {"status": 200})  # plain stdout: straight out
        seen = logging.NullHandler()
        parent.addHandler(seen)
        try:
            assert not write_clean(child, "GET / 200", {})  # that handler would miss it
        finally:
            parent.removeHandler(seen)
        parent.propagate = False
        try:
            assert not write_clean(child, "GET / 200", {})  # the root would not see it
        finally:
            parent.propagate = True
    lines = [orjson.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [x["message"] for x in lines if x.get("logger") == child.name] == ["GET / 200"]
