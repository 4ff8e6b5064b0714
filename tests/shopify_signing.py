"""Shopify's signing algorithms, written here from Shopify's docs and libraries.

Independent of `server/security/hmac.py` on purpose: a test vector made by the code under
test proves nothing. Sources:

- `js_admin_hmac`: `@shopify/shopify-api`, lib/utils/hmac-validator.ts
  `stringifyQueryForAdmin` + lib/utils/processed-query.ts (keys sorted with
  `localeCompare`; an array value as `key[]` entries; `URLSearchParams.toString()` with
  `+` replaced by `%20`).
- `documented_hmac`: shopify.dev "Verify the installation request" and Shopify's Python
  library (`%` and `&` escaped in keys and values, `=` in keys, sorted, joined with `&`;
  `ids[]` arrays as `ids=["1", "2"]`).
- `js_app_proxy_signature`: the same file's `stringifyQueryForAppProxy` (sorted
  `key=value`, arrays joined with `,`, concatenated).
- `body_hmac`: base64 HMAC-SHA256 of the raw body (webhooks, Flow actions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import quote

Query = Mapping[str, str | list[str]]


def _hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def locale_sorted(keys: list[str]) -> list[str]:
    """`keys.sort((a, b) => a.localeCompare(b))` for ASCII-letter keys: case-insensitive,
    lower case first on a tie (ICU root collation); `[` and `]` before letters."""
    return sorted(keys, key=lambda k: ([(c not in "[]", c.lower()) for c in k], k.swapcase()))


def _url_search_params(entries: list[tuple[str, str]]) -> str:
    # WHATWG form-urlencoded: all but ASCII alphanumerics and *-._ escaped; space as `+`,
    # which the library then replaces with %20 (quote writes %20 already; it keeps `~`).
    def enc(text: str) -> str:
        return quote(text, safe="*").replace("~", "%7E")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in entries)


def js_admin_hmac(query: Query, secret: str) -> str:
    """`generateLocalHmac(config)(query, 'admin')`."""
    rest = {k: v for k, v in query.items() if k not in {"hmac", "signature"}}
    entries: list[tuple[str, str]] = []
    for key in locale_sorted(list(rest)):
        value = rest[key]
        if isinstance(value, list):
            entries += [(f"{key}[]", item) for item in value]
        else:
            entries.append((key, value))
    return _hex(secret, _url_search_params(entries))


def documented_hmac(query: Query, secret: str) -> str:
    """The algorithm of Shopify's docs (and of `shopify_python_api`)."""
    segments = []
    for name, raw in query.items():
        if name in {"hmac", "signature"}:
            continue
        key, value = (
            (name.removesuffix("[]"), json.dumps(raw, ensure_ascii=False))
            if isinstance(raw, list)
            else (name, raw)
        )
        k = key.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
        v = value.replace("%", "%25").replace("&", "%26")
        segments.append(f"{k}={v}")
    return _hex(secret, "&".join(sorted(segments)))


def js_app_proxy_signature(query: Query, secret: str) -> str:
    """`generateLocalHmac(config)(query, 'appProxy')`."""
    rest = {k: v for k, v in query.items() if k not in {"hmac", "signature"}}
    message = "".join(
        f"{k}={','.join(v) if isinstance(v, list) else v}"
        for k, v in ((key, rest[key]) for key in locale_sorted(list(rest)))
    )
    return _hex(secret, message)


def body_hmac(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def query_string(pairs: list[tuple[str, str]]) -> str:
    """A query string as a browser sends it (every reserved character escaped)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
