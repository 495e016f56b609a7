"""An incremental newline-delimited JSON (NDJSON) line splitter, the framing of Ollama's native
stream: each line is one JSON document, handed on as an ``SSEEvent`` whose ``data`` is the line,
so the HTTP read loop serves both framings.

Lines end with LF (a CR before it is dropped); blank lines are skipped; bytes are split before
decoding, so a UTF-8 character cut by a network read is never broken. A line longer than
``max_line_bytes`` stops the splitter with ``error`` set (the lines before it are kept). The last
line may lack its newline: ``finish()`` hands it on.
"""

from __future__ import annotations

from ..errors import MalformedResponseError
from .sse import DEFAULT_MAX_LINE_BYTES, SSEDecoder, SSEEvent

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder(SSEDecoder):
    """Bytes in, one event per non-blank line out. One instance per stream."""

    __slots__ = ("_pending",)

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        super().__init__(max_line_bytes)
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The lines that ``chunk`` completes (none once ``error`` is set)."""
        if not chunk or self.error is not None:
            return []
        events: list[SSEEvent] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end == -1:
                break
            if self._pending:
                self._pending += chunk[start:end]
                line = bytes(self._pending)
                self._pending.clear()
            else:
                line = chunk[start:end]
            if len(line) > self._max:
                return self._overflow(events)
            self._emit(line, events)
            start = end + 1
        self._pending += chunk[start:]
        if len(self._pending) > self._max:
            return self._overflow(events)
        return events

    def _emit(self, line: bytes, events: list[SSEEvent]) -> None:
        text = line.decode("utf-8", "replace").strip()
        if text:
            events.append(SSEEvent(text))

    def _overflow(self, events: list[SSEEvent]) -> list[SSEEvent]:
        self._pending.clear()
        self.error = MalformedResponseError(
            message=f"an NDJSON line exceeded {self._max} bytes without a line break"
        )
        return events

    def finish(self) -> list[SSEEvent]:
        """End of body: the last line, if it had no newline."""
        events: list[SSEEvent] = []
        if self.error is None and self._pending:
            self._emit(bytes(self._pending), events)
        self._pending.clear()
        return events
