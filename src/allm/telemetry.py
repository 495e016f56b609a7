"""A tiny synchronous telemetry bus: spans with start / stop / exception events, and plain events.

Handlers receive ``(name, measurements, metadata)``. Span names: ``allm.<span>.start``,
``allm.<span>.stop`` (measurement ``duration`` in seconds) and ``allm.<span>.exception`` (instead
of stop, with ``kind``, ``reason`` and ``stacktrace``; the exception is re-raised). With no handler
attached, a span costs two attribute checks.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

__all__ = ["SPAN_NAMES", "Handler", "Span", "attach", "detach", "execute", "handlers", "span"]

Handler = Callable[[str, Mapping[str, Any], Mapping[str, Any]], None]

SPAN_NAMES = frozenset({"generate", "stream", "step", "chat", "tool", "image"})

_log = logging.getLogger("allm.telemetry")
_lock = threading.Lock()
_ids = itertools.count(1)
# Replaced whole on every change so emitters can read it without a lock.
_handlers: tuple[tuple[int, Handler, frozenset[str] | None], ...] = ()


def attach(handler: Handler, events: Iterable[str] | None = None) -> int:
    """Call ``handler`` for the named events (all of them when ``events`` is None); returns an id."""
    global _handlers
    if not callable(handler):
        raise TypeError(f"telemetry handler must be callable, got {handler!r}")
    wanted = None if events is None else frozenset(events)
    with _lock:
        handler_id = next(_ids)
        _handlers = (*_handlers, (handler_id, handler, wanted))
    return handler_id


def detach(handler_id: int) -> bool:
    """Stop calling the handler attached under ``handler_id``; False if there was none."""
    global _handlers
    with _lock:
        remaining = tuple(entry for entry in _handlers if entry[0] != handler_id)
        found = len(remaining) != len(_handlers)
        _handlers = remaining
    return found


def handlers() -> int:
    """How many handlers are attached."""
    return len(_handlers)


def execute(name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Deliver one event to every interested handler. A failing handler is logged, never raised."""
    for _, handler, wanted in _handlers:
        if wanted is not None and name not in wanted:
            continue
        try:
            handler(name, measurements, metadata)
        except Exception:  # a broken observer must not break the call it observes
            _log.exception("telemetry handler %r failed on %s", handler, name)


class Span:
    """One span. Use ``with telemetry.span("generate", meta) as s: ...; s.stop_metadata[...] = x``."""

    __slots__ = ("_start", "metadata", "name", "stop_metadata", "stopped")

    def __init__(self, name: str, metadata: Mapping[str, Any]) -> None:
        if name not in SPAN_NAMES:
            raise ValueError(f"unknown telemetry span {name!r}; known: {sorted(SPAN_NAMES)}")
        self.name = name
        self.metadata = metadata
        self.stop_metadata: dict[str, Any] = {}
        self.stopped = False
        self._start = 0

    def __enter__(self) -> Span:
        if _handlers:
            self._start = time.monotonic_ns()
            execute(
                f"allm.{self.name}.start",
                {"system_time": time.time_ns(), "monotonic_time": self._start},
                self.metadata,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.stopped or not _handlers or not self._start:
            return
        self.stopped = True
        duration = (time.monotonic_ns() - self._start) / 1e9
        if exc is None:
            execute(
                f"allm.{self.name}.stop",
                {"duration": duration},
                {**self.metadata, **self.stop_metadata},
            )
        else:
            execute(
                f"allm.{self.name}.exception",
                {"duration": duration},
                {**self.metadata, "kind": "error", "reason": exc, "stacktrace": tb},
            )


def span(name: str, metadata: Mapping[str, Any]) -> Span:
    """A span context manager emitting ``allm.<name>.start`` / ``.stop`` / ``.exception``."""
    return Span(name, metadata)
