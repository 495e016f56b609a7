"""A session's event stream: the chat (or step) stream, folded as it is read."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from ..data.results import ChatResult, Session, StepResult
from ..events import Event
from ..execution.streams import AsyncEventStream, EventStream
from ._reducer import ReducerMode, StreamReducer

__all__ = ["AsyncSessionStream", "SessionStream"]

R = TypeVar("R", ChatResult, StepResult)


class SessionStream(Generic[R]):
    """The events of one session operation, folded by ``reducer`` as they are read.

    Iterate it for the events (each one is folded before you see it); ``collect()`` reads the rest
    and returns ``(session, result)``; ``finalize()`` stops reading and returns what was folded so
    far (a stream left early gives ``halted_reason="cancelled"``). ``session`` is the session the
    run started from (for ``stream_reply``: the old session with the user's message appended and
    the ask-user fields cleared); nothing about the session changes before ``collect`` /
    ``finalize``. Leave early with ``break``, ``close()`` or a ``with`` block, as with any stream.
    """

    __slots__ = ("_events", "mode", "reducer", "request_id", "session")

    def __init__(self, events: EventStream[Any], session: Session, mode: ReducerMode) -> None:
        self._events = events
        self.session = session
        self.mode: ReducerMode = mode
        self.request_id = events.request_id
        self.reducer = StreamReducer(session, mode, request_id=events.request_id)

    def __iter__(self) -> SessionStream[R]:
        return self

    def __next__(self) -> Event:
        event = next(self._events)
        self.reducer.apply(event)
        return event

    def close(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        self._events.close()

    def collect(self) -> tuple[Session, R]:
        """Read the remaining events and return ``(session, result)``."""
        apply = self.reducer.apply
        try:
            for event in self._events:
                apply(event)
        finally:
            self.close()
        return cast("tuple[Session, R]", self.reducer.finalize())

    def finalize(self) -> tuple[Session, ChatResult | StepResult]:
        """Close the stream and return ``(session, result)`` from the events read so far."""
        self.close()
        return self.reducer.finalize()

    def __enter__(self) -> SessionStream[R]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SessionStream mode={self.mode!r} session_id={self.session.id!r}>"


class AsyncSessionStream(Generic[R]):
    """The async twin of ``SessionStream``: ``async for``, ``aclose()``, ``async with``,
    ``await collect()``, ``await finalize()``."""

    __slots__ = ("_events", "mode", "reducer", "request_id", "session")

    def __init__(self, events: AsyncEventStream[Any], session: Session, mode: ReducerMode) -> None:
        self._events = events
        self.session = session
        self.mode: ReducerMode = mode
        self.request_id = events.request_id
        self.reducer = StreamReducer(session, mode, request_id=events.request_id)

    def __aiter__(self) -> AsyncSessionStream[R]:
        return self

    async def __anext__(self) -> Event:
        event = await self._events.__anext__()
        self.reducer.apply(event)
        return event

    async def aclose(self) -> None:
        """Stop the stream and cancel the exchange (once; later calls do nothing)."""
        await self._events.aclose()

    async def collect(self) -> tuple[Session, R]:
        """Read the remaining events and return ``(session, result)``."""
        apply = self.reducer.apply
        try:
            async for event in self._events:
                apply(event)
        finally:
            await self.aclose()
        return cast("tuple[Session, R]", self.reducer.finalize())

    async def finalize(self) -> tuple[Session, ChatResult | StepResult]:
        """Close the stream and return ``(session, result)`` from the events read so far."""
        await self.aclose()
        return self.reducer.finalize()

    async def __aenter__(self) -> AsyncSessionStream[R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncSessionStream mode={self.mode!r} session_id={self.session.id!r}>"
