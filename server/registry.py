"""Handler registries: what the app adds to the app proxy, extension and Flow surfaces, and
what flows add to shared steps (uninstall, the sweeper)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
H = TypeVar("H")


class HandlerRegistry(Generic[K, H]):
    """Handlers by key (a path, a Flow action handle); a key is registered once."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._handlers: dict[K, H] = {}

    def register(self, key: K) -> Callable[[H], H]:
        """Decorator: `@REGISTRY.register(key)` over the handler."""

        def add(handler: H) -> H:
            if key in self._handlers:
                raise ValueError(f"{self._what} {key!r} is registered twice")
            self._handlers[key] = handler
            return handler

        return add

    def get(self, key: K) -> H | None:
        """The handler for `key`, or None."""
        return self._handlers.get(key)

    def __iter__(self) -> Iterator[K]:
        return iter(sorted(self._handlers, key=str))

    def handlers(self) -> list[H]:
        """Every handler, in the order of their keys (never the order of registration)."""
        return [self._handlers[key] for key in self]
