"""Shopify's HMACs: hex over query strings (OAuth, app home, app proxy), base64 over bodies.

Query signatures have one reader, `verify_query_signature`: it takes the decoded query
pairs and a `QueryForm` (how the canonical message is written), and compares in constant
time against each secret. Two forms:

- `ADMIN_QUERY` (`hmac`, on OAuth install and callback and the app home). Shopify's
  documentation and its Python and Ruby libraries escape `%` and `&` in keys and values
  and `=` in keys, write `key=value` (a `key[]` array as `key=["a", "b"]`), sort and join
  with `&`; Shopify's JS library (`stringifyQueryForAdmin`) form-urlencodes every key and
  value (`URLSearchParams`, space as `%20`), a repeated key as `key[]` entries (or, from a
  `URLSearchParams`, one value joined with `,`). A query verifies when one of these
  messages matches. Each form escapes its own separators, so one message splits into the
  same `key=value` segments whatever form wrote it: a value cannot carry a parameter of
  its own (`a=1%26b%3D2` never verifies as `a=1` and `b=2`), and the parameters the app
  reads must appear once, so the repeated-key conventions cannot change what it reads.
- `APP_PROXY` (`signature`): sorted `key=value` (a repeated key's values joined with `,`)
  concatenated with no separator, as Shopify documents it and both libraries compute it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_HEX_DIGEST_RE = re.compile(r"[0-9a-fA-F]{64}")

Pairs = list[tuple[str, str]]


def normalize_shop(value: str | None) -> str | None:
    """The shop domain lower-cased, or None when it is not a valid *.myshopify.com domain."""
    if not value:
        return None
    shop = value.strip().lower()
    return shop if SHOP_DOMAIN_RE.fullmatch(shop) else None


# ---------------------------------------------------------------- the admin form


def _documented_message(pairs: Pairs) -> str | None:
    """Shopify's documented form; None when a plain key repeats (it has no spelling for it)."""
    plain: dict[str, str] = {}
    arrays: dict[str, list[str]] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            arrays.setdefault(key[:-2], []).append(value)
        elif key in plain:
            return None
        else:
            plain[key] = value
    items = list(plain.items())
    items += [(key, json.dumps(values, ensure_ascii=False)) for key, values in arrays.items()]
    segments = [f"{_escape(key, '%&=')}={_escape(value, '%&')}" for key, value in items]
    return "&".join(sorted(segments))


def _escape(text: str, chars: str) -> str:
    for char in chars:  # `%` first, so the escapes themselves are not escaped again
        text = text.replace(char, f"%{ord(char):02X}")
    return text


_FORM_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-._")


def _form_encode(text: str, space: str) -> str:
    """WHATWG application/x-www-form-urlencoded, as `URLSearchParams.toString()` writes it."""
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        if byte in _FORM_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append(space)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


# ICU's root collation (JavaScript's `localeCompare`) for ASCII: punctuation and symbols
# in this order, then digits, then letters case-insensitively; lower case first on a tie.
_ICU_ASCII = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_ICU_WEIGHT = {char: index for index, char in enumerate(_ICU_ASCII)}


def _locale_order(key: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], str]:
    """Sort key close to `a.localeCompare(b)`: exact for ASCII keys, accents second."""
    primary, secondary, tertiary = [], [], []
    for char in key:
        base = unicodedata.normalize("NFD", char)
        letter = base[0].lower()
        primary.append(_ICU_WEIGHT.get(letter, len(_ICU_ASCII) + ord(letter)))
        secondary.append(len(base))
        tertiary.append(int(base[0] != letter))
    return tuple(primary), tuple(secondary), tuple(tertiary), key


def _group(pairs: Pairs, *, by_base_key: bool) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for key, value in pairs:
        name = key[:-2] if by_base_key and key.endswith("[]") else key
        groups.setdefault(name, []).append(value)
    return groups


def _js_messages(pairs: Pairs) -> set[str]:
    """`stringifyQueryForAdmin` as the JS library runs it on a parsed query."""
    entry_lists: list[Pairs] = []
    # A qs-parsed query: a repeated key (or `key[]`) is an array, written `key[]=v` each.
    arrays = _group(pairs, by_base_key=True)
    array_keys = {key[:-2] for key, _ in pairs if key.endswith("[]")}
    entry_lists.append(
        [
            (f"{key}[]" if len(values) > 1 or key in array_keys else key, value)
            for key, values in arrays.items()
            for value in values
        ]
    )
    # A URLSearchParams query: a repeated key's values joined with `,`.
    joined = _group(pairs, by_base_key=False)
    if any(len(values) > 1 for values in joined.values()):
        entry_lists.append([(key, ",".join(values)) for key, values in joined.items()])
    messages = set()
    for entries in entry_lists:
        # localeCompare, and plain code-point order (Ruby's sort); both stable.
        for ordered in (
            sorted(entries, key=lambda e: _locale_order(e[0])),
            sorted(entries, key=lambda e: e[0]),
        ):
            for space in ("%20", "+"):  # the JS library, and Ruby's URI.encode_www_form
                messages.add(
                    "&".join(
                        f"{_form_encode(k, space)}={_form_encode(v, space)}" for k, v in ordered
                    )
                )
    return messages


def admin_query_messages(pairs: Pairs) -> set[str]:
    """Every message Shopify's documentation and libraries sign for these pairs."""
    messages = _js_messages(pairs)
    documented = _documented_message(pairs)
    if documented is not None:
        messages.add(documented)
    return messages


# ---------------------------------------------------------------- the app proxy form


def app_proxy_messages(pairs: Pairs) -> set[str]:
    """Sorted `key=value` (repeated values joined with `,`), concatenated.

    Sorted as `key=value` strings (shopify_app) or by key (the JS library, localeCompare).
    """
    segments = [
        (key, f"{key}={','.join(values)}")
        for key, values in _group(pairs, by_base_key=False).items()
    ]
    return {
        "".join(sorted(segment for _, segment in segments)),
        "".join(segment for _, segment in sorted(segments, key=lambda s: _locale_order(s[0]))),
        "".join(segment for _, segment in sorted(segments)),
    }


# ---------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class QueryForm:
    """Where a query carries its signature, how its message is written, what must be single."""

    param: str
    messages: Callable[[Pairs], Iterable[str]]
    single: frozenset[str]


ADMIN_QUERY = QueryForm(
    param="hmac",
    messages=admin_query_messages,
    single=frozenset({"hmac", "signature", "shop", "timestamp", "code", "state", "host"}),
)
APP_PROXY = QueryForm(
    param="signature",
    messages=app_proxy_messages,
    single=frozenset({"signature", "shop", "timestamp", "logged_in_customer_id", "path_prefix"}),
)
_UNSIGNED = frozenset({"hmac", "signature"})


def verify_query_signature(
    pairs: Iterable[tuple[str, str]], secrets: Iterable[str], form: QueryForm
) -> bool:
    """True when the query's signature matches one of the secrets (constant-time).

    `pairs` are the decoded query parameters in order, repeats included. Refused: a
    signature that is not 64 hex digits (compare_digest refuses non-ASCII str), and a query
    where a parameter the app reads appears more than once (or also as `key[]`).
    """
    items = list(pairs)
    given = [value for key, value in items if key == form.param]
    if len(given) != 1 or not _HEX_DIGEST_RE.fullmatch(given[0]):
        return False
    seen: set[str] = set()
    for key, _ in items:
        name = key[:-2] if key.endswith("[]") else key
        if name in form.single and (name in seen or name != key):
            return False
        seen.add(name)
    signed = [(key, value) for key, value in items if key not in _UNSIGNED]
    expected = given[0].lower().encode()
    messages = [message.encode("utf-8", "surrogatepass") for message in form.messages(signed)]
    return any(
        hmac.compare_digest(hmac.new(s.encode(), m, hashlib.sha256).hexdigest().encode(), expected)
        for s in secrets
        if s
        for m in messages
    )


def verify_query_hmac(pairs: Iterable[tuple[str, str]], secrets: Iterable[str]) -> bool:
    """True when the OAuth / app-home query's `hmac` verifies (see `ADMIN_QUERY`)."""
    return verify_query_signature(pairs, secrets, ADMIN_QUERY)


def verify_webhook_hmac(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body."""
    if not header:
        return False
    given = header.strip().encode()
    for secret in secrets:
        if not secret:
            continue
        # hmac.digest: the one-shot form, in C (no HMAC object per delivery).
        digest = hmac.digest(secret.encode(), body, "sha256")
        if hmac.compare_digest(base64.b64encode(digest), given):
            return True
    return False
