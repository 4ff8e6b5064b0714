"""The web pixel: webPixelCreate / Update / Delete, settings checked against the extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.fake_shopify.data import Node
from tests.fake_shopify.state import FakeShop, FakeState

PIXEL_EXTENSION_TOML = (
    Path(__file__).resolve().parents[2] / "extensions" / "web-pixel" / "shopify.extension.toml"
)


def _matches_pixel_settings(settings: dict[str, Any]) -> bool:
    """Shopify checks webPixelCreate/Update settings against the extension's settings
    definition: exactly its fields, each a string meeting its `min` length."""
    import tomllib

    fields = tomllib.loads(PIXEL_EXTENSION_TOML.read_text())["settings"]["fields"]
    if set(settings) != set(fields):
        return False
    for name, spec in fields.items():
        value = settings[name]
        minimum = next(
            (int(v["value"]) for v in spec.get("validations", []) if v["name"] == "min"), 0
        )
        if not isinstance(value, str) or len(value) < minimum:
            return False
    return True


INVALID_SETTINGS: Node = {
    "code": "INVALID_SETTINGS",
    "field": ["webPixel", "settings"],
    "message": "Settings are invalid.",
}


class WebPixels(FakeState):
    """The web pixel mutations (state in `FakeShop.pixel`)."""

    @staticmethod
    def _settings_json(settings: Any) -> str | None:
        # The JSON scalar arrives as a JSON-encoded string (or, leniently, an object).
        if isinstance(settings, str):
            try:
                settings = orjson.loads(settings)
            except orjson.JSONDecodeError:
                return None
        if not isinstance(settings, dict) or not _matches_pixel_settings(settings):
            return None
        return orjson.dumps(settings).decode()

    def _pixel_create(self, shop: FakeShop, webPixel: Node) -> Node:
        if shop.pixel_user_errors:
            errors, shop.pixel_user_errors = shop.pixel_user_errors, []
            return {"webPixel": None, "userErrors": errors}
        if shop.pixel is not None:
            return {
                "webPixel": None,
                "userErrors": [
                    {"code": "TAKEN", "field": ["webPixel"], "message": "Web pixel is taken."}
                ],
            }
        settings = self._settings_json(webPixel.get("settings"))
        if settings is None:
            return {"webPixel": None, "userErrors": [INVALID_SETTINGS]}
        shop.pixel = {
            "__typename": "WebPixel",
            "id": self._new_id(shop, "WebPixel"),
            "settings": settings,
        }
        return {"webPixel": shop.pixel, "userErrors": []}

    def _pixel_update(self, shop: FakeShop, id: str, webPixel: Node) -> Node:
        if shop.pixel is None or shop.pixel["id"] != id:
            return {
                "webPixel": None,
                "userErrors": [
                    {"code": "NOT_FOUND", "field": ["id"], "message": "Web pixel not found."}
                ],
            }
        settings = self._settings_json(webPixel.get("settings"))
        if settings is None:
            return {"webPixel": None, "userErrors": [INVALID_SETTINGS]}
        shop.pixel["settings"] = settings
        return {"webPixel": shop.pixel, "userErrors": []}

    def _pixel_delete(self, shop: FakeShop, id: str) -> Node:
        if shop.pixel is None or shop.pixel["id"] != id:
            return {
                "deletedWebPixelId": None,
                "userErrors": [
                    {"code": "NOT_FOUND", "field": ["id"], "message": "Web pixel not found."}
                ],
            }
        shop.pixel = None
        return {"deletedWebPixelId": id, "userErrors": []}
