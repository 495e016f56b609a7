"""An AWS event-stream encoder for the tests: the frames Bedrock's ConverseStream sends, built from
the documented event shapes (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html)
and the framing (https://smithy.io/2.0/aws/amazon-eventstream.html)."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any


def header(name: str, value: Any) -> bytes:
    """One header: strings (type 7), bytes (6), booleans (0/1), ints (type 4, int32)."""
    raw = name.encode()
    head = struct.pack(">B", len(raw)) + raw
    if isinstance(value, bool):
        return head + (b"\x00" if value else b"\x01")
    if isinstance(value, int):
        return head + b"\x04" + struct.pack(">i", value)
    if isinstance(value, bytes):
        return head + b"\x06" + struct.pack(">H", len(value)) + value
    data = str(value).encode()
    return head + b"\x07" + struct.pack(">H", len(data)) + data


def message(headers: dict[str, Any], payload: bytes) -> bytes:
    """One framed message with both CRCs."""
    block = b"".join(header(name, value) for name, value in headers.items())
    total = 12 + len(block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + block + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(kind: str, payload: dict[str, Any]) -> bytes:
    """A ConverseStream event (the padding field ``p`` as Bedrock adds it)."""
    data = json.dumps({**payload, "p": "abcdefgh"}, separators=(",", ":")).encode()
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return message(headers, data)


def exception(kind: str, text: str) -> bytes:
    """An exception frame (``:message-type`` exception)."""
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return message(headers, json.dumps({"message": text}).encode())
