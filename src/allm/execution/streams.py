"""Event streams as the caller holds them: iterable, closable, context managers, collectable.

A stream folds every event it hands out, so it remembers its result: after the stream was
iterated to its end (or closed), ``collect()`` and ``response`` give the whole fold, never an
empty one (``docs/requests.md``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..collector import StreamCollector
from ..events import Event

__all__ = ["AsyncEventStream", "EventStream"]

R = TypeVar("R")


def _folding(events: Iterator[Event], collector: StreamCollector) -> Iterator[Event]:
    apply = collector.apply
    for event in events:
        apply(event)
        yield event


async def _afolding(
    events: AsyncIterator[Event], collector: StreamCollector
) -> AsyncIterator[Event]:
    apply = collector.apply
    async for event in events:
        apply(event)
        yield event


class _Folded(Generic[R]):
    """What both stream kinds share: the fold they keep and the result it projects to."""

    __slots__ = ("_closed", "_collector", "_project", "_result")
    _closed: bool
    _collector: StreamCollector
    _project: Callable[[StreamCollector], R]
    _result: R | None

    @property
    def response(self) -> R:
        """The fold of the events handed out so far; the whole result once the stream ended."""
        if self._closed:
            if self._result is None:
                self._result = self._project(self._collector)
            return self._result
        return self._project(self._collector)


class EventStream(_Folded[R]):
    """A lazy stream of events. Nothing is sent before the first event is pulled.

    Leave early with ``break``, ``close()`` or a ``with`` block: the exchange is cancelled exactly
    once. ``collect()`` consumes what is left and returns the fold of every event of the stream
    (a ``Response`` for ``stream_generate``, a ``StepResult`` for ``stream_step``, a
    ``ChatResult`` for ``stream``); ``response`` is the fold of the events handed out so far.
    """

    __slots__ = ("_events", "_folded", "request_id")

    def __init__(
        self,
        events: Iterator[Event],
        new_collector: Callable[[], StreamCollector],
        project: Callable[[StreamCollector], R],
        request_id: str,
    ) -> None:
        self._events = events
        self._collector = new_collector()
        self._folded = _folding(events, self._collector)
        self._project = project
        self._result: R | None = None
        self._closed = False
        self.request_id = request_id

    def __iter__(self) -> Iterator[Event]:
        return self._folded

    def __next__(self) -> Event:
        return next(self._folded)

    def close(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            self._folded.close()  # type: ignore[attr-defined]
            self._events.close()  # type: ignore[attr-defined]

    def collect(self) -> R:
        """Consume the remaining events; the fold of the whole stream (the same on every call)."""
        try:
            # Straight from the events into the fold: the same folding as iterating, one
            # generator fewer per event. (Iterating ``_folded`` before left it after a yield,
            # so nothing is skipped or folded twice.)
            self._collector.apply_all(self._events)
        finally:
            self.close()
        return self.response

    def __enter__(self) -> EventStream[R]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<EventStream request_id={self.request_id!r} {state}>"


class AsyncEventStream(_Folded[R]):
    """The async twin of ``EventStream``: ``async for``, ``aclose()``, ``async with``, ``await collect()``."""

    __slots__ = ("_events", "_folded", "_plan", "request_id")

    def __init__(
        self,
        events: AsyncIterator[Event],
        new_collector: Callable[[], StreamCollector],
        project: Callable[[StreamCollector], R],
        request_id: str,
        plan: Any = None,
    ) -> None:
        self._events = events
        self._collector = new_collector()
        self._folded = _afolding(events, self._collector)
        self._project = project
        self._result: R | None = None
        self._closed = False
        self._plan = plan
        self.request_id = request_id

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._folded

    async def __anext__(self) -> Event:
        return await self._folded.__anext__()

    async def aclose(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            await self._folded.aclose()  # type: ignore[attr-defined]
            await self._events.aclose()  # type: ignore[attr-defined]

    async def collect(self) -> R:
        """Consume the remaining events; the fold of the whole stream (the same on every call)."""
        try:
            dispatch = self._collector.apply
            async for event in self._events:
                dispatch(event)
        finally:
            await self.aclose()
        return self.response

    async def __aenter__(self) -> AsyncEventStream[R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # An abandoned async stream: its async generator is only finalized when the event loop
        # gets to it, but the adapter's plan is a plain generator and can be closed right now.
        if not self._closed and self._plan is not None:
            self._plan.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncEventStream request_id={self.request_id!r} {state}>"
