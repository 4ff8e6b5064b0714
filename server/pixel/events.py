"""The Web Pixels event envelope: validation by index and sanitising (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

STANDARD_EVENTS = frozenset(
    {
        "alert_displayed",
        "cart_viewed",
        "checkout_address_info_submitted",
        "checkout_completed",
        "checkout_contact_info_submitted",
        "checkout_shipping_info_submitted",
        "checkout_started",
        "collection_viewed",
        "page_viewed",
        "payment_info_submitted",
        "product_added_to_cart",
        "product_removed_from_cart",
        "product_viewed",
        "search_submitted",
        "ui_extension_errored",
    }
)
DOM_EVENTS = frozenset(
    {"clicked", "form_submitted", "input_blurred", "input_changed", "input_focused"}
)
EVENT_TYPES = frozenset({"standard", "dom", "custom"})
CONTEXT_KEYS = ("document", "navigator", "window")

MAX_ID_CHARS = 255
# Consent banners and offline browsers delay events by hours, not months.
MAX_EVENT_AGE = timedelta(days=30)
MAX_DEPTH = 12
_CUSTOM_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:./ -]{0,254}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$")
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{7,20}$")
# A long run of token alphabet (JWTs, API keys, session ids, signed values).
_TOKEN_VALUE_RE = re.compile(r"^[A-Za-z0-9_\-.~+/=]{24,}$")
_SENSITIVE_KEYS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "authorization",
        "password",
        "pass",
        "pwd",
        "secret",
        "key",
        "api_key",
        "apikey",
        "code",
        "session",
        "sessionid",
        "sid",
        "signature",
        "sig",
        "hmac",
        "email",
        "phone",
        "tel",
    }
)


class EnvelopeError(ValueError):
    """One event is not a valid Web Pixels envelope; the message says why."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one event may hold."""

    max_event_bytes: int
    max_string_chars: int
    max_future_skew_s: int
    max_future_skew: timedelta = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_future_skew", timedelta(seconds=self.max_future_skew_s))


def _id_string(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"{key} must be a non-empty string")
    if len(value) > MAX_ID_CHARS:
        raise EnvelopeError(f"{key} is longer than {MAX_ID_CHARS} characters")
    if _CONTROL_RE.search(value):
        raise EnvelopeError(f"{key} contains control characters")
    return value


_ZERO = timedelta(0)


def _timestamp(value: Any, *, now: datetime, max_future_skew: timedelta) -> str:
    if not isinstance(value, str) or not value:
        raise EnvelopeError("timestamp must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EnvelopeError("timestamp is not ISO 8601") from None
    offset = parsed.utcoffset()
    if offset is None:
        raise EnvelopeError("timestamp has no time zone")
    if offset == _ZERO and value[-1] == "Z" and value[4] == "-" and value[10] == "T":
        # The pixel's own form (toISOString, extended ISO 8601 in UTC): kept as sent, which
        # PostgreSQL reads as Python did.
        utc, text = parsed, value
    else:
        try:
            # Normalised so PostgreSQL parses exactly what Python validated.
            utc = parsed.astimezone(UTC)
        except OverflowError:  # e.g. year 1 with a positive offset
            raise EnvelopeError("timestamp is not ISO 8601 in a usable range") from None
        text = utc.isoformat()
    if utc - now > max_future_skew:
        raise EnvelopeError("timestamp is in the future")
    if now - utc > MAX_EVENT_AGE:
        raise EnvelopeError("timestamp is older than 30 days")
    return text


def _has_email(value: str) -> bool:
    # Linear on purpose (a regex with nested repetition backtracks quadratically on
    # storefront-controlled input): an "@" with a dot somewhere after it is treated as an
    # address. Over-eager, which is the safe side.
    at = value.find("@")
    return at > 0 and "." in value[at + 1 :]


def _looks_like_phone(value: str) -> bool:
    # Bare digit runs are phone numbers up to 12 digits; longer ones are Shopify's product
    # and variant ids (13+ digits), which analytics needs. Formatted numbers ("+", spaces,
    # dashes, parentheses) are phones at any length the pattern allows.
    if not _PHONE_RE.match(value):
        return False
    digits = sum(c.isdigit() for c in value)
    if value.isdigit():
        return 7 <= digits <= 12
    return digits >= 7


def _query_is_clean(query: str) -> bool:
    """True when no parameter can be one `_clean_query` drops (so it may stay as it is).

    Each test is necessary for a drop: an e-mail needs "@", a phone 7 digits, a token 24
    characters, and encoded text ("%", "+") is left to the full parse.
    """
    if "@" in query or "%" in query or "+" in query:
        return False
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        lowered = key.lower()
        if lowered in _SENSITIVE_KEYS or lowered.endswith(("token", "secret", "password")):
            return False
        if len(value) >= 24 or sum(c.isdigit() for c in value) >= 7:
            return False
    return True


def _clean_query(query: str) -> str:
    if _query_is_clean(query):
        return query
    kept = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        lowered = key.lower()
        if (
            lowered in _SENSITIVE_KEYS
            or lowered.endswith(("token", "secret", "password"))
            or _has_email(value)
            or _has_email(key)
            or _looks_like_phone(value)
            or _TOKEN_VALUE_RE.match(value)
        ):
            continue
        kept.append((key, value))
    return urlencode(kept)


def clean_url_like(value: str) -> str:
    """Drop query parameters that carry e-mail addresses, phone numbers or tokens."""
    if value.startswith("?"):
        cleaned = _clean_query(value[1:])
        return f"?{cleaned}" if cleaned else ""
    question = value.find("?")
    if question < 0 or ("://" not in value[:question] and not value.startswith("/")):
        return value
    fragment = ""
    rest = value[question + 1 :]
    hash_at = rest.find("#")
    if hash_at >= 0:
        rest, fragment = rest[:hash_at], rest[hash_at:]
    cleaned = _clean_query(rest)
    base = value[:question]
    return f"{base}?{cleaned}{fragment}" if cleaned else f"{base}{fragment}"


def _clean_string(value: str, max_chars: int) -> str:
    if "\x00" in value:
        # PostgreSQL's jsonb cannot hold NUL; one such string must not sink a batch.
        value = value.replace("\x00", "")
    if "?" in value:
        value = clean_url_like(value)
    return value[:max_chars] if len(value) > max_chars else value


def _sanitise_value(value: Any, *, max_chars: int, depth: int) -> Any:
    kind = type(value)
    if kind is str:
        if len(value) > max_chars or "?" in value or "\x00" in value:
            return _clean_string(value, max_chars)
        return value
    if kind is dict or kind is list:
        return _sanitise(value, max_chars=max_chars, depth=depth)
    return value


def _clean_already(value: dict[str, Any] | list[Any], *, max_chars: int, depth: int) -> bool:
    """True when the walk below could change nothing: no string or key longer than
    `max_chars` (the whole document is not), no "?" (query strings are what get cleaned),
    no NUL, and too few brackets to nest past MAX_DEPTH. Read off the serialised value, in
    C, instead of walking it in Python."""
    blob = orjson.dumps(value)
    return (
        len(blob) <= max_chars
        and b"?" not in blob
        and b"\\u0000" not in blob
        and blob.count(b"{") + blob.count(b"[") < MAX_DEPTH - depth
    )


def _sanitise(value: Any, *, max_chars: int, depth: int) -> Any:
    # The hot path of ingest: a value that is clean already is kept as it is; otherwise
    # exact type checks and no work for the parts that are clean.
    kind = type(value)
    if kind is not dict and kind is not list:
        return _sanitise_value(value, max_chars=max_chars, depth=depth)
    if depth >= MAX_DEPTH:
        return {} if kind is dict else []
    if _clean_already(value, max_chars=max_chars, depth=depth):
        return value
    if kind is list:
        return [_sanitise_value(v, max_chars=max_chars, depth=depth + 1) for v in value]
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        name = (
            key
            if len(key) <= max_chars and "\x00" not in key
            else (key.replace("\x00", "")[:max_chars])
        )
        cleaned[name] = _sanitise_value(item, max_chars=max_chars, depth=depth + 1)
    return cleaned


def validate_event(
    event: Any, *, limits: Limits, now: datetime, check_size: bool = True
) -> dict[str, Any]:
    """The sanitised envelope of one event, or EnvelopeError naming what is wrong."""
    if not isinstance(event, dict):
        raise EnvelopeError("event must be an object")
    if check_size and len(orjson.dumps(event)) > limits.max_event_bytes:
        raise EnvelopeError(f"event is larger than {limits.max_event_bytes} bytes")
    event_id = _id_string(event, "id")
    name = _id_string(event, "name")
    type_ = event.get("type")
    if type_ not in EVENT_TYPES:
        raise EnvelopeError("type must be one of standard, dom, custom")
    if type_ == "standard" and name not in STANDARD_EVENTS:
        raise EnvelopeError(f"{name!r} is not a standard event")
    if type_ == "dom" and name not in DOM_EVENTS:
        raise EnvelopeError(f"{name!r} is not a DOM event")
    if type_ == "custom" and (
        name in STANDARD_EVENTS or name in DOM_EVENTS or not _CUSTOM_NAME_RE.match(name)
    ):
        raise EnvelopeError(f"{name!r} is not a valid custom event name")
    client_id = _id_string(event, "clientId")
    seq = event.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise EnvelopeError("seq must be a non-negative integer")
    timestamp = _timestamp(event.get("timestamp"), now=now, max_future_skew=limits.max_future_skew)
    context = event.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise EnvelopeError("context must be an object")
    data = event.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EnvelopeError("data must be an object")
    max_chars = limits.max_string_chars
    return {
        "event_id": event_id,
        "name": name,
        "ts": timestamp,
        "client_id": client_id,
        "seq": seq,
        "type": type_,
        "context": {
            k: _sanitise(context[k], max_chars=max_chars, depth=1)
            for k in CONTEXT_KEYS
            if k in context
        },
        "data": _sanitise(data, max_chars=max_chars, depth=1),
    }


def valid_version(value: Any) -> str | None:
    """The extension version a post names, if it is a sane one."""
    if isinstance(value, str) and _VERSION_RE.match(value):
        return value
    return None
