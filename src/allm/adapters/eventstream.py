"""An incremental decoder of the AWS event-stream framing (``application/vnd.amazon.eventstream``).

Each message is: a 12-byte prelude (total length, headers length, both big-endian u32, then the
CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before it. A header
is a name (u8 length + UTF-8), a type byte and a value (booleans carry no bytes; byte, short, int
and long are signed big-endian; bytes and string carry a u16 length; a timestamp is a signed
64-bit millisecond count; a UUID is 16 bytes).

``feed(bytes)`` returns the messages completed by those bytes, whatever the chunking;
``finish()`` ends the stream (``pending`` says whether a message was cut off). A mismatched CRC,
an impossible length or an unknown header type stops the decoder with ``error`` set to a
``MalformedResponseError``; the messages completed before it are still returned. Like the SSE
decoder it interprets nothing: ``:message-type`` and ``:event-type`` belong to the adapter.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from ..errors import MalformedResponseError

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "EventStreamDecoder", "EventStreamMessage"]

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_PRELUDE = 12
_SMALLEST = _PRELUDE + 4  # a message with no headers and no payload
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


@dataclass(frozen=True, slots=True)
class EventStreamMessage:
    """One decoded message: its headers (name to value) and payload bytes."""

    headers: dict[str, Any]
    payload: bytes

    def header(self, name: str) -> str | None:
        """A string header's value, or None."""
        value = self.headers.get(name)
        return value if isinstance(value, str) else None


class EventStreamDecoder:
    """Bytes in, messages out. One instance per stream."""

    __slots__ = ("_buffer", "_max", "error")

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._max = max_message_bytes
        self._buffer = bytearray()
        self.error: MalformedResponseError | None = None

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished message are waiting."""
        return bool(self._buffer)

    def feed(self, chunk: bytes) -> list[EventStreamMessage]:
        """The messages that ``chunk`` completes (none once ``error`` is set)."""
        if self.error is not None:
            return []
        self._buffer += chunk
        messages: list[EventStreamMessage] = []
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= _PRELUDE:
            total, headers_length, prelude_crc = struct.unpack_from(">III", buffer, start)
            if zlib.crc32(buffer[start : start + 8]) != prelude_crc:
                return self._fail(messages, "the prelude CRC does not match")
            if total < _SMALLEST or headers_length > total - _SMALLEST:
                return self._fail(messages, f"impossible lengths ({total}, {headers_length})")
            if total > self._max:
                return self._fail(messages, f"a message of {total} bytes exceeds {self._max}")
            if len(buffer) - start < total:
                break
            end = start + total
            (message_crc,) = struct.unpack_from(">I", buffer, end - 4)
            if zlib.crc32(buffer[start : end - 4]) != message_crc:
                return self._fail(messages, "the message CRC does not match")
            headers_end = start + _PRELUDE + headers_length
            try:
                headers = _headers(bytes(buffer[start + _PRELUDE : headers_end]))
            except (ValueError, struct.error, UnicodeDecodeError) as exc:
                return self._fail(messages, f"unreadable headers: {exc}")
            messages.append(EventStreamMessage(headers, bytes(buffer[headers_end : end - 4])))
            start = end
        if start:
            del buffer[:start]
        return messages

    def _fail(self, messages: list[EventStreamMessage], why: str) -> list[EventStreamMessage]:
        self._buffer = bytearray()
        self.error = MalformedResponseError(message=f"malformed AWS event-stream message: {why}")
        return messages

    def finish(self) -> list[EventStreamMessage]:
        """End of stream: an unfinished message is discarded (``pending`` tells it was there)."""
        return []


def _headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    at = 0
    size = len(data)
    while at < size:
        name_length = data[at]
        at += 1
        raw_name = data[at : at + name_length]
        if len(raw_name) != name_length or at + name_length >= size:
            raise ValueError("a header name runs past the headers")
        name = raw_name.decode("utf-8")
        at += name_length
        kind = data[at]
        at += 1
        value: Any
        if kind in (0, 1):
            value = kind == 0
        elif kind in _FIXED:
            fmt = _FIXED[kind]
            (value,) = struct.unpack_from(fmt, data, at)
            at += struct.calcsize(fmt)
        elif kind in (6, 7):
            (length,) = struct.unpack_from(">H", data, at)
            at += 2
            raw = data[at : at + length]
            if len(raw) != length:
                raise ValueError(f"header {name!r} runs past the headers")
            value = raw.decode("utf-8") if kind == 7 else raw
            at += length
        elif kind == 9:
            raw = data[at : at + 16]
            if len(raw) != 16:
                raise ValueError(f"header {name!r} runs past the headers")
            value = str(uuid.UUID(bytes=raw))
            at += 16
        else:
            raise ValueError(f"unknown header type {kind}")
        headers[name] = value
    return headers
