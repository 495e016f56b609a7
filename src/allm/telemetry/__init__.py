"""A tiny synchronous telemetry bus: spans with start / stop / exception events, and plain events.

Handlers receive ``(name, measurements, metadata)``. Span names: ``allm.<span>.start``,
``allm.<span>.stop`` (measurement ``duration`` in seconds) and ``allm.<span>.exception`` (instead
of stop, with ``kind``, ``reason`` and ``stacktrace``; the exception is re-raised). The spans are
``generate``, ``stream``, ``step``, ``chat``, ``tool``, ``image``, ``embed``, ``moderate``,
``synthesize``, ``transcribe``, ``classify`` (around its ``generate``) and ``mcp`` (one request
to an MCP server: metadata ``server``, ``method``, ``tool``); ``allm.adapter.retry`` is a plain
event emitted before each retry wait, and ``allm.audio.first_chunk`` one when a speech stream
delivers its first chunk.

Besides handlers, a *tracer* (``add_tracer``) sees the ``Span`` objects themselves, with their
parent span and their ``annotations`` (the final request, provider parameters, the provider name:
data for tracing bridges that handlers never get). The OpenTelemetry bridge in
``allm.telemetry.otel`` is one.

The ``allm`` logger, at debug level, gets one line per model request (a ``generate``, ``step``,
``image``, ``synthesize``, ``transcribe`` span, or a ``stream`` span that is not inside a ``generate``) and one per retry: request
id, provider, model, duration, finish reason and token counts, or the error's type and reason.
Keys, messages and error texts are never logged.

With no handler, no tracer and debug logging off, a span costs a few attribute checks.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Protocol

__all__ = [
    "REQUEST_SPANS",
    "SPAN_NAMES",
    "Handler",
    "Span",
    "Tracer",
    "add_tracer",
    "attach",
    "current_span",
    "detach",
    "execute",
    "handlers",
    "remove_tracer",
    "span",
    "tracers",
]

Handler = Callable[[str, Mapping[str, Any], Mapping[str, Any]], None]

SPAN_NAMES = frozenset(
    {
        "generate",
        "stream",
        "step",
        "chat",
        "tool",
        "image",
        "embed",
        "moderate",
        "synthesize",
        "transcribe",
        "classify",
        "mcp",
        "batch",
    }
)
# Spans that stand for one model request (a ``stream`` inside a ``generate`` is the same request).
REQUEST_SPANS = frozenset(
    {"generate", "stream", "step", "image", "embed", "moderate", "synthesize", "transcribe"}
)

_log = logging.getLogger("allm.telemetry")
_request_log = logging.getLogger("allm")
_DEBUG = logging.DEBUG
_lock = threading.Lock()
_ids = itertools.count(1)
# Replaced whole on every change so emitters can read them without a lock.
_handlers: tuple[tuple[int, Handler, frozenset[str] | None], ...] = ()
_tracers: tuple[Tracer, ...] = ()
# The innermost observed span of this context (thread, task, or a tool worker's copy).
_current: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "allm_telemetry_span", default=None
)


class Tracer(Protocol):
    """Sees every span start and end. ``start_span`` returns a state handed back to ``end_span``.

    Both are called in the context the span runs in; neither may raise (a failure is logged).
    ``end_span`` is called for every span ``start_span`` saw, even after ``remove_tracer``.
    A tracer may also have ``on_event(name, measurements, metadata)``: it then gets the plain
    events (``allm.adapter.retry``, a timed-out tool's ``allm.tool.exception``) too.
    """

    def start_span(self, span: Span) -> Any:
        """The span started: ``span.name``, ``span.metadata``, ``span.parent`` are set."""
        ...

    def end_span(self, span: Span, state: Any, error: BaseException | None) -> None:
        """The span ended (``error`` is the exception, if it ended with one)."""
        ...


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


def add_tracer(tracer: Tracer) -> None:
    """Let ``tracer`` see every span from now on (adding the same tracer twice is a no-op)."""
    global _tracers
    if not callable(getattr(tracer, "start_span", None)) or not callable(
        getattr(tracer, "end_span", None)
    ):
        raise TypeError(f"a tracer needs start_span and end_span methods, got {tracer!r}")
    with _lock:
        if tracer not in _tracers:
            _tracers = (*_tracers, tracer)


def remove_tracer(tracer: Tracer) -> bool:
    """Stop showing new spans to ``tracer``; False if it was not added."""
    global _tracers
    with _lock:
        remaining = tuple(entry for entry in _tracers if entry is not tracer)
        found = len(remaining) != len(_tracers)
        _tracers = remaining
    return found


def tracers() -> int:
    """How many tracers are added."""
    return len(_tracers)


def current_span() -> Span | None:
    """The innermost running span of this context, when something observes spans; else None."""
    return _live(_current.get())


def execute(name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Deliver one event to every interested handler (and to tracers with ``on_event``). A
    failing observer is logged, never raised."""
    for _, handler, wanted in _handlers:
        if wanted is not None and name not in wanted:
            continue
        try:
            handler(name, measurements, metadata)
        except Exception:  # a broken observer must not break the call it observes
            _log.exception("telemetry handler %r failed on %s", handler, name)
    for tracer in _tracers:
        on_event = getattr(tracer, "on_event", None)
        if on_event is not None:
            try:
                on_event(name, measurements, metadata)
            except Exception:
                _log.exception("telemetry tracer %r failed on %s", tracer, name)
    if name == "allm.adapter.retry" and _request_log.isEnabledFor(_DEBUG):
        _request_log.debug(
            "allm retry request_id=%s provider=%s attempt=%s delay_ms=%s reason=%s",
            metadata.get("request_id"),
            metadata.get("provider"),
            metadata.get("attempt"),
            metadata.get("delay_ms"),
            metadata.get("reason"),
        )


def _live(span: Span | None) -> Span | None:
    while span is not None and span.stopped:
        span = span.parent
    return span


class Span:
    """One span. Use ``with telemetry.span("generate", meta) as s: ...; s.stop_metadata[...] = x``.

    A span is *observed* when a handler, a tracer or debug logging is on as it starts; only then
    is it timed, linked to its ``parent`` (the innermost observed span running in this context)
    and reported. ``annotate(**values)`` adds data for tracers, never sent to handlers.
    """

    __slots__ = (
        "_annotations",
        "_start",
        "_states",
        "duration",
        "metadata",
        "name",
        "parent",
        "stop_metadata",
        "stopped",
    )

    def __init__(self, name: str, metadata: Mapping[str, Any]) -> None:
        if name not in SPAN_NAMES:
            raise ValueError(f"unknown telemetry span {name!r}; known: {sorted(SPAN_NAMES)}")
        self.name = name
        self.metadata = metadata
        self.stop_metadata: dict[str, Any] = {}
        self.stopped = False
        self.parent: Span | None = None
        self.duration: float | None = None
        self._start = 0
        self._states: tuple[tuple[Tracer, Any], ...] = ()
        self._annotations: dict[str, Any] | None = None

    @property
    def observed(self) -> bool:
        """Whether the span was started under observation (and so will report its end)."""
        return self._start != 0

    @property
    def start_ns(self) -> int:
        """``time.monotonic_ns()`` at the start (0 when not observed)."""
        return self._start

    @property
    def annotations(self) -> Mapping[str, Any]:
        """What the code running the span told tracers (empty when not observed)."""
        return self._annotations or {}

    def tracer_state(self, tracer: Tracer) -> Any:
        """What ``tracer.start_span`` returned for this span (None if it did not see it)."""
        for owner, state in self._states:
            if owner is tracer:
                return state
        return None

    def annotate(self, **values: Any) -> None:
        """Record data for tracers (a request, parameters, a provider name); free when unobserved."""
        if self._start:
            if self._annotations is None:
                self._annotations = {}
            self._annotations.update(values)

    def __enter__(self) -> Span:
        if _handlers or _tracers or _request_log.isEnabledFor(_DEBUG):
            self._begin()
        return self

    def _begin(self) -> None:
        self._start = time.monotonic_ns()
        self.parent = _live(_current.get())
        _current.set(self)
        if _handlers:
            execute(
                f"allm.{self.name}.start",
                {"system_time": time.time_ns(), "monotonic_time": self._start},
                self.metadata,
            )
        states = []
        for tracer in _tracers:
            try:
                states.append((tracer, tracer.start_span(self)))
            except Exception:
                _log.exception("telemetry tracer %r failed to start %s", tracer, self.name)
        self._states = tuple(states)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.stopped or not self._start:
            return
        self.stopped = True
        self.duration = duration = (time.monotonic_ns() - self._start) / 1e9
        if _current.get() is self:
            _current.set(_live(self.parent))
        parent = self.parent
        if (
            self.name == "stream"
            and self._annotations
            and parent is not None
            and parent.name == "generate"
            and not parent.stopped
        ):
            # The generate's own request: its stream span knows the final request.
            parent.annotate(**self._annotations)
        for tracer, state in self._states:
            try:
                tracer.end_span(self, state, exc)
            except Exception:
                _log.exception("telemetry tracer %r failed to end %s", tracer, self.name)
        if _handlers:
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
        if self.name in REQUEST_SPANS and _request_log.isEnabledFor(_DEBUG):
            _log_request(self, exc)


def span(name: str, metadata: Mapping[str, Any]) -> Span:
    """A span context manager emitting ``allm.<name>.start`` / ``.stop`` / ``.exception``."""
    return Span(name, metadata)


def _log_request(span: Span, exc: BaseException | None) -> None:
    parent = span.parent
    if span.name == "stream" and parent is not None and parent.name == "generate":
        return  # the generate's line covers it
    annotations = span.annotations
    request = annotations.get("request")
    model = getattr(request, "model", None) or span.metadata.get("model")
    head = (
        "allm %s request_id=%s provider=%s model=%s duration_ms=%.1f",
        span.name,
        span.metadata.get("request_id"),
        annotations.get("provider"),
        model,
        (span.duration or 0.0) * 1000,
    )
    if exc is not None:
        _request_log.debug(
            head[0] + " error=%s reason=%s",
            *head[1:],
            type(exc).__name__,
            getattr(exc, "reason", None),
        )
        return
    response = span.stop_metadata.get("response")
    if response is None:
        response = getattr(span.stop_metadata.get("step_result"), "response", None)
    if response is None:
        _request_log.debug(head[0], *head[1:])
        return
    usage = getattr(response, "usage", None)
    finish = getattr(response, "finish_reason", None)
    error = getattr(response, "metadata", {}).get("error")
    _request_log.debug(
        head[0] + " finish=%s input_tokens=%s output_tokens=%s error=%s",
        *head[1:],
        getattr(finish, "value", finish),
        getattr(usage, "input_tokens", None),
        getattr(usage, "output_tokens", None),
        None if error is None else f"{type(error).__name__}:{getattr(error, 'reason', None)}",
    )


def __getattr__(name: str) -> Any:
    # ``allm.telemetry.otel.instrument()`` works without importing the submodule first, and
    # ``import allm.telemetry`` still never loads OpenTelemetry.
    if name == "otel":
        import importlib

        return importlib.import_module(f"{__name__}.otel")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
