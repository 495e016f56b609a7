"""An incremental Server-Sent Events decoder (the WHATWG rules), shared by every SSE adapter.

``feed(bytes)`` returns the events completed by those bytes; ``finish()`` ends the stream. Line
ends are LF, CR or CRLF, including a CRLF split across two reads; comment lines are ignored;
``data`` lines join with ``\\n``; exactly one space after the colon is stripped; ``event``, ``id``
and ``retry`` are kept apart from the data; a block without data dispatches nothing; an
unterminated block at the end is discarded. Lines are split on bytes and decoded per complete
line, so a UTF-8 character cut by a network read is never broken. A line longer than
``max_line_bytes`` stops the decoder with ``error`` set to a ``MalformedResponseError`` (never
unbounded memory); the events completed before it are still returned.

No provider sentinel (``[DONE]``) is interpreted here: that belongs to the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MalformedResponseError

__all__ = ["DEFAULT_MAX_LINE_BYTES", "SSEDecoder", "SSEEvent"]

DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)  # not frozen: built once per event, on the hot path
class SSEEvent:
    """One dispatched event."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Bytes in, events out. One instance per stream."""

    __slots__ = (
        "_data",
        "_event",
        "_has_data",
        "_id",
        "_last_id",
        "_max",
        "_retry",
        "_skip_lf",
        "_tail",
        "error",
    )

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._max = max_line_bytes
        self._tail: bytes | bytearray = b""
        self._skip_lf = False  # the previous read ended with CR: a leading LF is its pair
        self._data: list[str] = []
        self._has_data = False
        self._event = ""
        self._id: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None
        self.error: MalformedResponseError | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events that ``chunk`` completes (none once ``error`` is set)."""
        if not chunk or self.error is not None:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not self._tail and not self._has_data and not self._event and self._id is None:
            event = self._named_event(chunk) if chunk[:6] == b"event:" else self._whole_event(chunk)
            if event is not None:
                return [event]
        if self._tail and b"\n" not in chunk and b"\r" not in chunk:
            # A long line arriving in pieces: grow it in place (joining each piece onto the
            # whole line so far would make a 16 MB line cost gigabytes of copying).
            if not isinstance(self._tail, bytearray):
                self._tail = bytearray(self._tail)
            self._tail += chunk
            return self._fail([]) if len(self._tail) > self._max else []
        data = self._tail + chunk if self._tail else chunk
        events: list[SSEEvent] = []
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")  # CRLF framing (Gemini) takes the fast path
            if b"\r" in data:  # a lone CR, or a CRLF cut at the end of this read
                return self._feed_any_newline(data, events)
        # The common case (every origin API frames with LF): split once, not line by line.
        lines = data.split(b"\n")
        tail = lines.pop()
        limit = self._max
        for raw in lines:
            if not raw:
                self._dispatch(events)
            elif raw[:5] == b"data:" and len(raw) <= limit:
                value = raw[6:] if raw[5:6] == b" " else raw[5:]
                self._data.append(value.decode("utf-8", "replace"))
                self._has_data = True
            elif raw[:6] == b"event:" and len(raw) <= limit:
                value = raw[7:] if raw[6:7] == b" " else raw[6:]
                self._event = value.decode("utf-8", "replace")
            elif len(raw) > limit:
                return self._fail(events)
            else:
                self._line(raw, events)
        self._tail = tail
        if len(tail) > limit:
            return self._fail(events)
        return events

    def _whole_event(self, chunk: bytes) -> SSEEvent | None:
        """The one event of a chunk that is exactly ``data: ...`` and a blank line (LF or CRLF
        framed), as LLM servers write them; None for any other chunk (the general path)."""
        if chunk[:5] != b"data:" or self._retry is not None:
            return None
        size = len(chunk)
        end = chunk.find(b"\n")
        if end == size - 2:
            if chunk[-1] != 10 or b"\r" in chunk:
                return None
        elif end != size - 3 or chunk[-4:] != b"\r\n\r\n" or chunk.find(b"\r") != size - 4:
            return None
        else:
            end = size - 4
        if end > self._max:
            return None
        value = chunk[6:end] if chunk[5:6] == b" " else chunk[5:end]
        return SSEEvent(value.decode("utf-8", "replace"), "message", self._last_id)

    def _named_event(self, chunk: bytes) -> SSEEvent | None:
        """The one event of a chunk that is exactly ``event: ...``, ``data: ...`` and a blank line
        (LF framed), as Anthropic writes them; None for any other chunk (the general path)."""
        first = chunk.find(b"\n")
        start = first + 1
        if (
            chunk[start : start + 5] != b"data:"
            or self._retry is not None
            or chunk.find(b"\n", start) != len(chunk) - 2
            or chunk[-1] != 10
            or b"\r" in chunk
            or len(chunk) - start > self._max
            or first > self._max
        ):
            return None
        name = chunk[7:first] if chunk[6:7] == b" " else chunk[6:first]
        value = (
            chunk[start + 6 : -2] if chunk[start + 5 : start + 6] == b" " else chunk[start + 5 : -2]
        )
        return SSEEvent(
            value.decode("utf-8", "replace"),
            name.decode("utf-8", "replace") or "message",
            self._last_id,
        )

    def _feed_any_newline(self, data: bytes | bytearray, events: list[SSEEvent]) -> list[SSEEvent]:
        start = 0
        size = len(data)
        while start < size:
            lf = data.find(b"\n", start)
            cr = data.find(b"\r", start, lf if lf != -1 else size)
            if cr != -1:
                end, after = cr, cr + 1
                if after < size:
                    if data[after] == 10:  # CRLF
                        after += 1
                else:
                    self._skip_lf = True  # the LF, if any, comes in the next read
            elif lf != -1:
                end, after = lf, lf + 1
            else:
                break
            if end - start > self._max:
                return self._fail(events)
            self._line(data[start:end], events)
            start = after
        self._tail = data[start:]
        if len(self._tail) > self._max:
            return self._fail(events)
        return events

    def _fail(self, events: list[SSEEvent]) -> list[SSEEvent]:
        self._tail = b""
        self.error = MalformedResponseError(
            message=f"an SSE line exceeded {self._max} bytes without a line break"
        )
        return events

    def _line(self, raw: bytes | bytearray, events: list[SSEEvent]) -> None:
        if not raw:
            self._dispatch(events)
            return
        if raw[0] == 58:  # ":" comment / keep-alive
            return
        line = raw.decode("utf-8", errors="replace")
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._id is not None:
            self._last_id = self._id
        if self._has_data:
            data = self._data
            events.append(
                SSEEvent(
                    data[0] if len(data) == 1 else "\n".join(data),
                    self._event or "message",
                    self._last_id,
                    self._retry,
                )
            )
        self._data = []
        self._has_data = False
        self._event = ""
        self._id = None
        self._retry = None

    def finish(self) -> list[SSEEvent]:
        """End of stream: an unterminated block is discarded (never half-parsed)."""
        self._tail = b""
        self._data = []
        self._has_data = False
        self._skip_lf = False
        return []
