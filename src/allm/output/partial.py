"""Partial values from incomplete JSON, with pydantic-core's partial mode (no parser of our own).

The answer is re-parsed only when a delta holds a character that can complete a value (a quote,
a bracket, a brace or a comma) and the text grew by a sixteenth since the last parse: a parse costs
time in proportion to the text, so the growth rule keeps the total cost linear in the answer's
length (about 17 characters parsed per character received) while short answers still update at
almost every value. Incomplete strings are left out (``allow_partial=True``), and so is a trailing
number or literal that may still grow: every value reported is a prefix of the final one.
"""

from __future__ import annotations

import re
from typing import Any

from .schema import ROOT_KEY

__all__ = ["NOTHING", "PartialParser"]

NOTHING: Any = object()
_TRIGGER = re.compile(r'["{}\[\],]')
_SCALAR_TAIL = frozenset("0123456789.-+eEtrufalsn")
_BOUNDARIES = (",", ":", "[", "{")


class PartialParser:
    """Feed text deltas; ``feed`` returns the parsed prefix when it grew, else ``NOTHING``."""

    __slots__ = ("_from_json", "_last", "_parsed", "_parts", "_size", "_start", "_wrapped")

    def __init__(self, *, wrapped: bool) -> None:
        from pydantic_core import from_json

        self._from_json = from_json
        self._parts: list[str] = []
        self._last: Any = NOTHING
        self._start = -1
        self._size = 0  # characters received
        self._parsed = 0  # characters received at the last parse
        self._wrapped = wrapped

    def reset(self, text: str = "") -> Any:
        """Start again from ``text`` (an authoritative full text); returns ``feed``'s answer."""
        self._parts = []
        self._start = -1
        self._size = self._parsed = 0
        return self.feed(text) if text else NOTHING

    def feed(self, delta: str) -> Any:
        parts = self._parts
        parts.append(delta)
        size = self._size = self._size + len(delta)
        if (size - self._parsed) << 4 < self._parsed or _TRIGGER.search(delta) is None:
            return NOTHING
        self._parsed = size
        text = "".join(parts) if len(parts) > 1 else parts[0]
        parts[:] = [text]
        start = self._start
        if start < 0:  # skip prose or a code fence before the JSON (prompted mode)
            brace, bracket = text.find("{"), text.find("[")
            found = [index for index in (brace, bracket) if index >= 0]
            if not found:
                return NOTHING
            start = self._start = min(found)
        return self._parse(text, start)

    def flush(self) -> Any:
        """Parse what came since the last parse, whatever it holds (the attempt has ended)."""
        if self._size == self._parsed or not self._parts:
            return NOTHING
        self._parsed = self._size
        text = "".join(self._parts)
        self._parts[:] = [text]
        start = self._start
        if start < 0:
            found = [index for index in (text.find("{"), text.find("[")) if index >= 0]
            if not found:
                return NOTHING
            start = self._start = min(found)
        return self._parse(text, start)

    def _parse(self, text: str, start: int) -> Any:
        end = len(text.rstrip())
        if end and text[end - 1] in _SCALAR_TAIL:
            end = max(text.rfind(mark, start, end) for mark in _BOUNDARIES) + 1
            if end <= start:
                return NOTHING
        try:
            value = self._from_json(text[start:end], allow_partial=True)
        except ValueError:
            return NOTHING  # not JSON at all (yet): nothing to show
        if self._wrapped:
            if not isinstance(value, dict) or ROOT_KEY not in value:
                return NOTHING
            value = value[ROOT_KEY]
        if value == self._last:
            return NOTHING
        self._last = value
        return value
