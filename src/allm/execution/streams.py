"""Event streams as the caller holds them: iterable, closable, context managers, collectable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..collector import StreamCollector
from ..events import Event

__all__ = ["AsyncEventStream", "EventStream"]

R = TypeVar("R")


class EventStream(Generic[R]):
    """A lazy stream of events. Nothing is sent before the first event is pulled.

    Leave early with ``break``, ``close()`` or a ``with`` block: the exchange is cancelled exactly
    once. ``collect()`` folds the events not yet consumed into the result (a ``Response`` for
    ``stream_generate``, a ``StepResult`` for ``stream_step``, a ``ChatResult`` for ``stream``).
    """

    __slots__ = ("_closed", "_events", "_new_collector", "_project", "request_id")

    def __init__(
        self,
        events: Iterator[Event],
        new_collector: Callable[[], StreamCollector],
        project: Callable[[StreamCollector], R],
        request_id: str,
    ) -> None:
        self._events = events
        self._new_collector = new_collector
        self._project = project
        self._closed = False
        self.request_id = request_id

    def __iter__(self) -> Iterator[Event]:
        return self._events

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            self._events.close()  # type: ignore[attr-defined]

    def collect(self) -> R:
        """Fold the remaining events into the result."""
        collector = self._new_collector()
        try:
            collector.apply_all(self._events)
        finally:
            self.close()
        return self._project(collector)

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


class AsyncEventStream(Generic[R]):
    """The async twin of ``EventStream``: ``async for``, ``aclose()``, ``async with``, ``await collect()``."""

    __slots__ = ("_closed", "_events", "_new_collector", "_plan", "_project", "request_id")

    def __init__(
        self,
        events: AsyncIterator[Event],
        new_collector: Callable[[], StreamCollector],
        project: Callable[[StreamCollector], R],
        request_id: str,
        plan: Any = None,
    ) -> None:
        self._events = events
        self._new_collector = new_collector
        self._project = project
        self._closed = False
        self._plan = plan
        self.request_id = request_id

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events

    async def __anext__(self) -> Event:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            await self._events.aclose()  # type: ignore[attr-defined]

    async def collect(self) -> R:
        """Fold the remaining events into the result."""
        collector = self._new_collector()
        apply = collector.apply
        try:
            async for event in self._events:
                apply(event)
        finally:
            await self.aclose()
        return self._project(collector)

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
