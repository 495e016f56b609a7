"""The blocking driver: runs adapter generators, performing their effects with blocking calls."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any, TypeVar

from ..effects import Effect, Scope
from ..events import Event, RawChunk, is_usage_chunk
from .runner import EventFilter

__all__ = ["drive", "run"]

T = TypeVar("T")


def drive(plan: Iterator[Event | Effect], event_filter: EventFilter) -> Iterator[Event]:
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
                reply = item.run_sync(scope)
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
            scope.close_all()


def run(plan: Generator[Effect, Any, T]) -> T:
    """Run an effect generator to its return value."""
    scope = Scope()
    reply: Any = None
    try:
        while True:
            effect = plan.send(reply)
            reply = effect.run_sync(scope)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        try:
            plan.close()
        finally:
            scope.close_all()
