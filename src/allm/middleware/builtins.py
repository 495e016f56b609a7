"""The built-in middleware: default options, ``<think>`` extraction, request logging, redaction."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .. import codec
from ..data.messages import Message, TextPart
from ..data.request import Request
from ..events import (
    Event,
    MessageCompleted,
    ReasoningCompleted,
    ReasoningDelta,
    TextCompleted,
    TextDelta,
)
from .chain import MiddlewareContext

__all__ = [
    "DefaultOptions",
    "ExtractReasoning",
    "LogRequests",
    "Redact",
    "default_options",
    "extract_reasoning",
    "log_requests",
    "redact",
]

_REQUEST_FIELDS = frozenset(f.name for f in fields(Request)) - {"messages", "options", "metadata"}


@dataclass(frozen=True, slots=True)
class DefaultOptions:
    """Fill request fields that are unset, and provider options that are absent."""

    options: Mapping[str, Any] = field(default_factory=dict)

    def transform_request(self, request: Request, ctx: MiddlewareContext) -> Request:
        changes: dict[str, Any] = {}
        extra = dict(request.options)
        for name, value in self.options.items():
            if name in _REQUEST_FIELDS:
                # a raw option of the same name is already a choice (a neutral field outranks it)
                if getattr(request, name) in (None, ()) and name not in request.options:
                    changes[name] = value
            else:
                extra.setdefault(name, value)
        if extra != request.options:
            changes["options"] = extra
        return replace(request, **changes) if changes else request


def default_options(**opts: Any) -> DefaultOptions:
    """Defaults below everything else: a request field or option already set is kept."""
    return DefaultOptions(dict(opts))


def split_tagged(text: str, tag: str) -> tuple[str, str]:
    """``text`` without its ``<tag>...</tag>`` spans, and the text inside them (an unclosed span
    runs to the end)."""
    opening, closing = f"<{tag}>", f"</{tag}>"
    outside: list[str] = []
    inside: list[str] = []
    position = 0
    while True:
        start = text.find(opening, position)
        if start < 0:
            outside.append(text[position:])
            break
        outside.append(text[position:start])
        end = text.find(closing, start + len(opening))
        if end < 0:
            inside.append(text[start + len(opening) :])
            break
        inside.append(text[start + len(opening) : end])
        position = end + len(closing)
        while position < len(text) and text[position].isspace():
            position += 1  # the blank line after the thinking is not part of the answer
    return "".join(outside), "".join(inside)


class _TagSplitter:
    """Splits streamed text into outside and inside parts; a tag cut across chunks is held back
    until the next chunk decides it."""

    def __init__(self, tag: str) -> None:
        self.markers = (f"<{tag}>", f"</{tag}>")
        self.inside = False
        self.held = ""
        self.after_close = False

    def feed(self, chunk: str) -> list[tuple[bool, str]]:
        text = self.held + chunk
        self.held = ""
        parts: list[tuple[bool, str]] = []
        while text:
            if self.after_close and not self.inside:
                text = text.lstrip()
                if not text:
                    break
                self.after_close = False
            marker = self.markers[1 if self.inside else 0]
            found = text.find(marker)
            if found >= 0:
                parts.append((self.inside, text[:found]))
                text = text[found + len(marker) :]
                self.after_close = self.inside
                self.inside = not self.inside
                continue
            keep = _partial_suffix(text, marker)
            parts.append((self.inside, text[: len(text) - keep]))
            self.held = text[len(text) - keep :]
            break
        return [(inside, piece) for inside, piece in parts if piece]

    def flush(self) -> list[tuple[bool, str]]:
        held, self.held = self.held, ""
        return [(self.inside, held)] if held else []


def _partial_suffix(text: str, marker: str) -> int:
    """The length of the longest end of ``text`` that starts ``marker``."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


@dataclass(frozen=True, slots=True)
class ExtractReasoning:
    """Move ``<tag>...</tag>`` text of servers that inline their thinking into reasoning events."""

    tag: str = "think"

    def wrap_events(self, events: Iterable[Event], ctx: MiddlewareContext) -> Iterator[Event]:
        splitter = _TagSplitter(self.tag)
        for event in events:
            if isinstance(event, TextDelta):
                for inside, piece in splitter.feed(event.delta):
                    yield from self._piece(splitter, inside, piece, event.id)
            elif isinstance(event, TextCompleted):
                for inside, piece in splitter.flush():
                    yield from self._piece(splitter, inside, piece, event.id)
                outside, reasoning = split_tagged(event.text, self.tag)
                if reasoning:
                    yield ReasoningCompleted(reasoning, id=event.id)
                yield replace(event, text=outside)
            elif isinstance(event, MessageCompleted):
                yield _without_tags(event, self.tag)
            else:
                yield event
        for inside, piece in splitter.flush():
            yield from self._piece(splitter, inside, piece, None)

    @staticmethod
    def _piece(splitter: _TagSplitter, inside: bool, piece: str, id: str | None) -> Iterator[Event]:
        if inside:
            yield ReasoningDelta(piece, id=id)
        else:
            yield TextDelta(piece, id=id)


def _without_tags(event: MessageCompleted, tag: str) -> MessageCompleted:
    message = event.message
    if isinstance(message, Message) and isinstance(message.content, str):
        outside, reasoning = split_tagged(message.content, tag)
        if reasoning:
            return replace(event, message=replace(message, content=outside))
    return event


def extract_reasoning(tag: str = "think") -> ExtractReasoning:
    """``<think>...</think>`` text (or ``tag``'s) as ``ReasoningDelta``/``ReasoningCompleted``."""
    return ExtractReasoning(tag)


@dataclass(frozen=True, slots=True)
class LogRequests:
    """Log each call's shape (never its key, its text or its options' values) to ``logger``."""

    logger: str = "allm.requests"
    level: int = logging.INFO

    def transform_request(self, request: Request, ctx: MiddlewareContext) -> Request:
        log = logging.getLogger(self.logger)
        if log.isEnabledFor(self.level):
            log.log(
                self.level,
                "allm request %s: provider=%s model=%s messages=%d tools=%s options=%s",
                ctx.request_id,
                ctx.provider,
                request.model,
                len(request.messages),
                [tool.name for tool in request.tools],
                sorted(request.options),
            )
        return request


def log_requests(
    logger: logging.Logger | str = "allm.requests", level: int = logging.INFO
) -> LogRequests:
    """Log every request's provider, model, message count, tool names and option names."""
    name = logger.name if isinstance(logger, logging.Logger) else str(logger)
    return LogRequests(name, level)


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...], flags: int) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, flags) for pattern in patterns)


@dataclass(frozen=True, slots=True)
class Redact:
    """Rewrite matches of ``patterns`` in the outgoing messages' text."""

    patterns: tuple[str, ...]
    replacement: str = "[redacted]"
    flags: int = 0

    def _clean(self, text: str) -> str:
        for pattern in _compiled(self.patterns, self.flags):
            text = pattern.sub(self.replacement, text)
        return text

    def _message(self, message: Message) -> Message:
        if isinstance(message.content, str):
            cleaned: Any = self._clean(message.content)
        else:
            cleaned = tuple(
                replace(part, text=self._clean(part.text)) if isinstance(part, TextPart) else part
                for part in message.content
            )
        return message if cleaned == message.content else replace(message, content=cleaned)

    def transform_request(self, request: Request, ctx: MiddlewareContext) -> Request:
        messages = tuple(self._message(message) for message in request.messages)
        return request if messages == request.messages else replace(request, messages=messages)


def redact(
    patterns: Iterable[str | re.Pattern[str]] | str | re.Pattern[str],
    replacement: str = "[redacted]",
) -> Redact:
    """Replace every match of ``patterns`` (regular expressions) in outgoing text."""
    if isinstance(patterns, str | re.Pattern):
        patterns = [patterns]
    texts: list[str] = []
    flags = 0
    for pattern in patterns:
        if isinstance(pattern, re.Pattern):
            texts.append(pattern.pattern)
            flags |= pattern.flags & ~re.UNICODE
        else:
            re.compile(pattern)  # a bad pattern fails here, at configuration
            texts.append(pattern)
    return Redact(tuple(texts), replacement, flags)


for _cls in (DefaultOptions, ExtractReasoning, LogRequests, Redact):
    codec.register(_cls)
