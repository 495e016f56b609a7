"""Wrappers around a streaming adapter's plan: metadata stamped on its ``MessageCompleted``, and
each provider event handed out as a ``RawChunk`` too (``include_raw_chunks=True``).

A wire chunk is ``RawChunk(("wire", name, payload))``: ``payload`` is the event's data parsed as
JSON (the text or bytes as they came when they are not JSON), ``name`` the SSE event name (or
Bedrock's ``:event-type``), else the payload's ``type``, else None. It comes just before the
events decoded from it, and never before ``MessageStarted``. None of this runs for a call that
did not ask: the read loop then feeds the decoder directly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import replace
from typing import Any

from .._json import loads_wire
from ..events import Event, MessageCompleted, MessageStarted, RawChunk
from .eventstream import EventStreamMessage

__all__ = ["started_first", "stamp_completed", "wire_chunk", "with_wire_chunks"]


def _relay(
    plan: Generator[Any, Any, None],
    step: Callable[[Any], Iterable[Any]],
    end: Callable[[], Iterable[Any]] = tuple,
) -> Generator[Any, Any, None]:
    """``plan`` with each item it yields replaced by what ``step`` makes of it (then what ``end``
    makes, when it is over). A reply goes back to ``plan`` only when the item it answers was
    passed on, so an effect's answer never reaches an event; closing this closes ``plan``."""
    reply: Any = None
    try:
        while True:
            try:
                item = plan.send(reply)
            except StopIteration:
                yield from end()
                return
            reply = None
            for out in step(item):
                reply = yield out
    finally:
        plan.close()


def stamp_completed(
    plan: Generator[Any, Any, None], metadata: Mapping[str, Any]
) -> Generator[Any, Any, None]:
    """``plan`` with ``metadata`` added to its ``MessageCompleted`` events."""

    def step(item: Any) -> tuple[Any]:
        if isinstance(item, MessageCompleted):
            return (replace(item, metadata={**item.metadata, **metadata}),)
        return (item,)

    return _relay(plan, step)


def wire_chunk(frame: Any) -> RawChunk:
    """The ``RawChunk`` of one framed provider event (an ``SSEEvent``, an NDJSON line, an AWS
    event-stream message), or of a whole body (bytes) served instead of a stream."""
    name: str | None
    if isinstance(frame, EventStreamMessage):
        data: Any = frame.payload
        name = frame.header(":event-type") or frame.header(":exception-type")
    elif isinstance(frame, bytes | str):
        data, name = frame, None
    else:
        data = frame.data
        name = frame.event if frame.event not in ("", "message") else None
    try:
        payload = loads_wire(data) if data else data
    except (ValueError, UnicodeDecodeError):
        payload = data
    if name is None and type(payload) is dict and isinstance(payload.get("type"), str):
        name = payload["type"]
    return RawChunk(("wire", name, payload))


def with_wire_chunks(feed: Callable[[Any], list[Event]]) -> Callable[[Any], list[Event]]:
    """A decoder's ``feed`` that puts each frame's wire chunk before the events it decodes."""

    def fed(frame: Any) -> list[Event]:
        return [wire_chunk(frame), *feed(frame)]

    return fed


def _is_wire(item: Any) -> bool:
    return type(item) is RawChunk and type(item.data) is tuple and item.data[:1] == ("wire",)


def started_first(plan: Generator[Any, Any, None]) -> Generator[Any, Any, None]:
    """``plan`` with the wire chunks that came before ``MessageStarted`` (decoders that open the
    message on the provider's first event, Anthropic's and Bedrock's) moved just after it; a plan
    that never opens its message keeps them at its end."""
    held: list[RawChunk] = []
    opened = False

    def step(item: Any) -> list[Any]:
        nonlocal opened
        if opened:
            return [item]
        if _is_wire(item):
            held.append(item)
            return []
        if type(item) is MessageStarted:
            opened = True
            out = [item, *held]
            held.clear()
            return out
        return [item]

    return _relay(plan, step, lambda: held)
