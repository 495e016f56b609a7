"""Wrappers around a streaming adapter's plan: metadata stamped on its ``MessageCompleted``, and
each provider event handed out as a ``RawChunk`` too (``include_raw_chunks=True``).

A wire chunk is ``RawChunk(("wire", name, payload))``: ``payload`` is the event's data parsed as
JSON (the text or bytes as they came when they are not JSON), ``name`` the SSE event name (or
Bedrock's ``:event-type``), else the payload's ``type``, else None. It comes just before the
events decoded from it, and never before ``MessageStarted``. None of this runs for a call that
did not ask: the read loop then feeds the decoder directly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import replace
from typing import Any

from .._json import loads_wire
from ..events import Event, MessageCompleted, MessageStarted, RawChunk
from .eventstream import EventStreamMessage

__all__ = ["started_first", "stamp_completed", "wire_chunk", "with_wire_chunks"]


def stamp_completed(
    plan: Generator[Any, Any, None], metadata: Mapping[str, Any]
) -> Generator[Any, Any, None]:
    """``plan`` with ``metadata`` added to its ``MessageCompleted`` events (replies pass through;
    closing it closes ``plan``)."""
    reply: Any = None
    try:
        while True:
            try:
                item = plan.send(reply)
            except StopIteration:
                return
            if isinstance(item, MessageCompleted):
                item = replace(item, metadata={**item.metadata, **metadata})
            reply = yield item
    finally:
        plan.close()


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
    message on the provider's first event, Anthropic's and Bedrock's) moved just after it."""
    reply: Any = None
    held: list[RawChunk] | None = []
    try:
        while True:
            try:
                item = plan.send(reply)
            except StopIteration:
                yield from held or ()  # a plan that never opened its message keeps them too
                return
            if held is not None and _is_wire(item):
                held.append(item)
                reply = None  # what an event gets back; the last reply answered an effect
                continue
            reply = yield item
            if held is not None and type(item) is MessageStarted:
                yield from held
                held = None
    finally:
        plan.close()
