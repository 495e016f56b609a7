"""Two test hooks, read by every call's pre-flight: an engine override and request capture.

``allm.testing.override`` and ``allm.testing.capture`` set them (context variables, so a test's
setting stays in its thread or task and the copies the runners hand to worker threads). With
neither set, each costs one context-variable read per call.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["apply_override", "capture_sinks", "record_request"]

# engine -> the engine the call really runs with
override: contextvars.ContextVar[Callable[[Any], Any] | None] = contextvars.ContextVar(
    "allm_engine_override", default=None
)


class Sink:
    """Where one ``capture()`` block collects requests (thread-safe appends, in order)."""

    __slots__ = ("_lock", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._lock = threading.Lock()

    def add(self, request: Any) -> None:
        with self._lock:
            self.items.append(request)


sinks: contextvars.ContextVar[tuple[Sink, ...]] = contextvars.ContextVar(
    "allm_capture_sinks", default=()
)


def apply_override(engine: Any) -> Any:
    """The engine a call runs with: the test override's, else ``engine`` itself."""
    replace_engine = override.get()
    return engine if replace_engine is None else replace_engine(engine)


def capture_sinks() -> tuple[Sink, ...]:
    """The capture blocks now open in this context (innermost last)."""
    return sinks.get()


def record_request(request: Any) -> None:
    """Tell every open capture block that an adapter is asked to send ``request``."""
    for sink in sinks.get():
        sink.add(request)
