"""The intake lanes' inputs, declared with server/inputs.py for the OpenAPI document.

POST /webhooks and POST /pixel/events parse their headers and bodies by hand, on the
hottest path (server/webhooks/http.py, server/pixel/http.py). These declarations say what
those parsers take, with the same names, bounds and messages, so that the document is
generated from a declaration here; the parsers can be wired to them (`.parse(...)`) where
that costs nothing measurable.
"""

from __future__ import annotations

from server.inputs import Array, Body, Field, Parameters, Str
from server.pixel.http import MAX_KEY_CHARS
from server.webhooks.http import (
    API_VERSION_HEADER,
    EVENT_ID_HEADER,
    HMAC_HEADER,
    SHOP_HEADER,
    TOPIC_HEADER,
    TRIGGERED_AT_HEADER,
    WEBHOOK_ID_HEADER,
)

# Each may also come without the X- prefix (Shopify-Topic, ...), under the same rules.
WEBHOOK_HEADERS = Parameters(
    (
        Field(HMAC_HEADER, Str(), required=True),
        Field(TOPIC_HEADER, Str(), required=True),
        Field(SHOP_HEADER, Str(), required=True),
        Field(EVENT_ID_HEADER, Str()),
        Field(WEBHOOK_ID_HEADER, Str()),
        Field(TRIGGERED_AT_HEADER, Str()),
        Field(API_VERSION_HEADER, Str()),
    ),
    where="header",
    closed=False,
    title="Invalid header",
)

# The Web Pixels envelope; more events than pixel.max_events_per_request is a 413.
PIXEL_ENVELOPE = Body(
    (
        Field(
            "accountID",
            Str(min_length=1, max_length=MAX_KEY_CHARS),
            "accountID must be a non-empty string",
            required=True,
        ),
        Field("events", Array(min_items=1), "events must be a non-empty array", required=True),
    ),
    expected="Body must be a JSON object with accountID and events",
    closed=False,
    title=None,
)
