"""The async driver: the same plans as ``_sync``, performing effects with awaits.

The plans themselves are plain generators, so adapter code is shared; only this loop differs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, TypeVar

from ..effects import Effect, Scope
from ..events import Event, RawChunk, is_usage_chunk
from .runner import EventFilter

__all__ = ["drive", "run"]

T = TypeVar("T")


async def drive(plan: Iterator[Event | Effect], event_filter: EventFilter) -> AsyncIterator[Event]:
    """Yield the plan's events through the filter; closing this closes the plan exactly once."""
    on_event = event_filter.on_event
    drop = event_filter.drop
    send = plan.send  # type: ignore[attr-defined]
    scope = Scope()
    reply: Any = None
    try:
        while True:
            try:
                item = send(reply)
            except StopIteration:
                return
            reply = None
            if isinstance(item, Effect):
                reply = await item.run_async(scope)
                continue
            if on_event is not None:
                on_event(item)
            if type(item) in drop and not (type(item) is RawChunk and is_usage_chunk(item)):
                continue
            yield item
    finally:
        try:
            plan.close()  # type: ignore[attr-defined]
        finally:
            await scope.aclose_all()


async def run(plan: Generator[Effect, Any, T]) -> T:
    """Run an effect generator to its return value."""
    scope = Scope()
    reply: Any = None
    try:
        while True:
            effect = plan.send(reply)
            reply = await effect.run_async(scope)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        try:
            plan.close()
        finally:
            await scope.aclose_all()
