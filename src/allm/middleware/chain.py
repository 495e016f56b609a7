"""Running an engine's middleware: request transforms in order, event transforms around a plan.

A plan (the adapter's generator of events and effects) cannot hand a plain iterator transform
its events one by one while the driver performs the effects in between: the transform pulls,
and a pull may need I/O. So the transforms run on a worker thread that pulls from a hand-off
queue: the plan feeds each event in and takes what comes out until the transforms ask for the
next one. The plan never waits on I/O there, only on the transforms' own work; the driver,
sync or async, still performs every effect itself.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..data.request import Request
from ..effects import Effect, relay
from ..errors import ConfigurationError
from ..events import Event

__all__ = ["MiddlewareContext", "transform_request", "wrap_plan"]


@dataclass(frozen=True, slots=True)
class MiddlewareContext:
    """What a middleware hook knows about the call: its id, engine, provider and model."""

    request_id: str
    engine: Any = None
    provider: str | None = None
    model: str | None = None


def transform_request(
    middleware: Sequence[Any], request: Request, ctx: MiddlewareContext
) -> Request:
    """``request`` through each item's ``transform_request``, in order."""
    for item in middleware:
        hook = getattr(item, "transform_request", None)
        if not callable(hook):
            continue
        request = hook(request, ctx)
        if not isinstance(request, Request):
            raise ConfigurationError(
                "invalid_option",
                problems=[f"{item!r}.transform_request must return a Request, got {request!r}"],
            )
    return request


EventTransform = Callable[[Iterator[Event]], Iterator[Event]]

_NEED, _OUT, _DONE, _FAIL = "need", "out", "done", "fail"
_ITEM, _END = "item", "end"


class _Pump:
    """The event transforms on a worker thread, fed one event at a time."""

    def __init__(self, transforms: Sequence[EventTransform]) -> None:
        self._transforms = transforms
        self._in: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._out: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._finished = False

    def _source(self) -> Iterator[Event]:
        while True:
            self._out.put((_NEED, None))
            kind, item = self._in.get()
            if kind == _END:
                return
            yield item

    def _work(self) -> None:
        try:
            events: Iterator[Event] = self._source()
            for transform in self._transforms:
                events = iter(transform(events))
            for event in events:
                self._out.put((_OUT, event))
            self._out.put((_DONE, None))
        except BaseException as exc:  # handed to the plan's thread, raised there
            self._out.put((_FAIL, exc))

    def _drain(self) -> list[Event]:
        produced: list[Event] = []
        while True:
            kind, value = self._out.get()
            if kind == _OUT:
                produced.append(value)
            elif kind == _NEED:
                return produced
            else:
                self._finished = True
                if kind == _FAIL:
                    raise value
                return produced

    def _start(self) -> list[Event]:
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._work,), name="allm-middleware", daemon=True
        )
        self._thread.start()
        return self._drain()

    def feed(self, event: Event) -> list[Event]:
        """What the transforms emit after ``event``."""
        produced = self._start() if self._thread is None else []
        if self._finished:
            return produced
        self._in.put((_ITEM, event))
        return produced + self._drain()

    def finish(self) -> list[Event]:
        """What the transforms emit once the input ended."""
        produced = self._start() if self._thread is None else []
        if not self._finished:
            self._in.put((_END, None))
            produced += self._drain()
        self._join()
        return produced

    def close(self) -> None:
        """End the worker (the consumer stopped early); what it emits now is dropped."""
        if self._thread is not None and not self._finished:
            self._in.put((_END, None))
            self._finished = True
        self._join()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def _transforms(middleware: Sequence[Any], ctx: MiddlewareContext) -> list[EventTransform]:
    found: list[EventTransform] = []
    for item in middleware:
        hook = getattr(item, "wrap_events", None)
        if callable(hook):
            found.append(_bound(hook, ctx))
    return found


def _bound(
    hook: Callable[[Iterator[Event], MiddlewareContext], Any], ctx: MiddlewareContext
) -> EventTransform:
    def transform(events: Iterator[Event]) -> Iterator[Event]:
        return iter(hook(events, ctx))

    return transform


def wrap_plan(
    plan: Iterator[Event | Effect], middleware: Sequence[Any], ctx: MiddlewareContext
) -> Iterator[Event | Effect]:
    """``plan`` with its events passed through each item's ``wrap_events``; effects untouched."""
    transforms = _transforms(middleware, ctx)
    if not transforms:
        return plan
    return _wrapped(plan, _Pump(transforms))


def _wrapped(plan: Iterator[Event | Effect], pump: _Pump) -> Generator[Any, Any, Any]:
    try:
        value = yield from relay(plan, pump.feed)
        yield from pump.finish()
        return value
    finally:
        pump.close()
