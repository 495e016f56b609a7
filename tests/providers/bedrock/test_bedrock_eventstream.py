"""The AWS event-stream decoder: fixed byte vectors, both CRCs checked, every header type, and
chunking invariance (Hypothesis), cross-checked against botocore's own decoder.

The fixed vectors are the published encoding test cases of the AWS event-stream format (the
aws-c-event-stream suite, also used by botocore); the format is described at
https://smithy.io/2.0/aws/amazon-eventstream.html and
https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allm.adapters.eventstream import EventStreamDecoder, EventStreamMessage
from allm.errors import MalformedResponseError

from .eventstream import message

EMPTY = b"\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2H\xeb}\x98\xc8\xff"
INT32_HEADER = (
    b"\x00\x00\x00\x1d\x00\x00\x00\r\x83\xe3\xf0\xe7\x07integer\x04\xff\xff\xff\xff\x8b\x8e\x12\xeb"
)
ONE_STRING_HEADER = (
    b"\x00\x00\x00=\x00\x00\x00 \x07\xfd\x83\x96\x0ccontent-type\x07\x00\x10"
    b"application/json{'foo':'bar'}\x8d\x9c\x08\xb1"
)
ALL_HEADER_TYPES = (
    b"\x00\x00\x00\x62\x00\x00\x00\x52\x03\xb5\xcb\x9c"
    b"\x010\x00\x011\x01\x012\x02\x02\x013\x03\x00\x03"
    b"\x014\x04\x00\x00\x00\x04\x015\x05\x00\x00\x00\x00\x00\x00\x00\x05"
    b"\x016\x06\x00\x05bytes\x017\x07\x00\x04utf8"
    b"\x018\x08\x00\x00\x00\x00\x00\x00\x00\x08\x019\x090123456789abcdef"
    b"\x63\x35\x36\x71"
)
ERROR_MESSAGE = (
    b"\x00\x00\x00\x52\x00\x00\x00\x42\xbf\x23\x63\x7e"
    b"\x0d:message-type\x07\x00\x05error"
    b"\x0b:error-code\x07\x00\x04code"
    b"\x0e:error-message\x07\x00\x07message"
    b"\x6b\x6c\xea\x3d"
)


def _decode(data: bytes) -> tuple[list[EventStreamMessage], EventStreamDecoder]:
    decoder = EventStreamDecoder()
    out = decoder.feed(data)
    out += decoder.finish()
    return out, decoder


def test_the_published_vectors_decode() -> None:
    out, decoder = _decode(EMPTY + INT32_HEADER + ONE_STRING_HEADER + ERROR_MESSAGE)
    assert decoder.error is None and not decoder.pending
    assert out[0] == EventStreamMessage({}, b"")
    assert out[1].headers == {"integer": -1}
    assert out[2].header("content-type") == "application/json"
    assert out[2].payload == b"{'foo':'bar'}"
    assert out[3].header(":message-type") == "error"
    assert out[3].header(":error-code") == "code"
    assert out[3].header(":error-message") == "message"


def test_every_header_type() -> None:
    (decoded,), _ = _decode(ALL_HEADER_TYPES)
    assert decoded.headers == {
        "0": True,
        "1": False,
        "2": 2,
        "3": 3,
        "4": 4,
        "5": 5,
        "6": b"bytes",
        "7": "utf8",
        "8": 8,
        "9": "30313233-3435-3637-3839-616263646566",
    }
    assert decoded.header("6") is None  # bytes, not a string


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x01" + EMPTY[1:], "prelude CRC"),
        (EMPTY[:-1] + b"\x00", "message CRC"),
        (ONE_STRING_HEADER.replace(b"content-type", b"content+type"), "message CRC"),
        (ONE_STRING_HEADER.replace(b"'bar'", b"'baz'"), "message CRC"),
    ],
)
def test_a_crc_mismatch_is_malformed(data: bytes, why: str) -> None:
    out, decoder = _decode(EMPTY + data + EMPTY)
    assert out == [EventStreamMessage({}, b"")]  # the message before it is kept
    assert isinstance(decoder.error, MalformedResponseError)
    assert why in decoder.error.message
    assert decoder.feed(EMPTY) == []  # stopped for good


def _framed(headers_block: bytes, payload: bytes = b"", total: int | None = None) -> bytes:
    size = total if total is not None else 16 + len(headers_block) + len(payload)
    prelude = struct.pack(">II", size, len(headers_block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers_block + payload
    return body + struct.pack(">I", zlib.crc32(body))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_framed(b"\x01a\x0b"), "unknown header type"),
        (_framed(b"\x05ab"), "runs past"),
        (_framed(b"\x01a\x07\x00\x09abc"), "runs past"),
        (_framed(b"\x01a\x09abcd"), "runs past"),
        (
            struct.pack(">II", 8, 0) + struct.pack(">I", zlib.crc32(struct.pack(">II", 8, 0))),
            "impossible",
        ),
    ],
)
def test_unreadable_headers_and_lengths_are_malformed(data: bytes, why: str) -> None:
    _, decoder = _decode(data)
    assert decoder.error is not None and why in decoder.error.message


def test_a_message_over_the_limit_is_refused_before_it_is_buffered() -> None:
    decoder = EventStreamDecoder(max_message_bytes=64)
    decoder.feed(message({}, b"x" * 100)[:20])
    assert decoder.error is not None and "exceeds 64" in decoder.error.message


def test_a_cut_message_is_pending() -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(ONE_STRING_HEADER[:30]) == []
    assert decoder.pending
    assert decoder.finish() == []


_headers = st.dictionaries(
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12),
    st.one_of(
        st.text(max_size=30),
        st.binary(max_size=30),
        st.integers(-(2**31), 2**31 - 1),
        st.booleans(),
    ),
    max_size=5,
)
_messages = st.lists(st.tuples(_headers, st.binary(max_size=300)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(_messages, st.lists(st.integers(0, 2000), max_size=12))
def test_decoding_does_not_depend_on_chunking(
    messages: list[tuple[dict[str, object], bytes]], cuts: list[int]
) -> None:
    data = b"".join(message(headers, payload) for headers, payload in messages)
    whole, _ = _decode(data)
    assert [(m.headers, m.payload) for m in whole] == [(dict(h), p) for h, p in messages]
    decoder = EventStreamDecoder()
    pieces, start = [], 0
    for offset in sorted({c for c in cuts if 0 < c < len(data)}):
        pieces.append(data[start:offset])
        start = offset
    pieces.append(data[start:])
    chunked = [m for piece in pieces for m in decoder.feed(piece)]
    assert chunked == whole
    assert decoder.error is None and not decoder.pending


@settings(max_examples=40, deadline=None)
@given(_messages)
def test_botocore_reads_our_frames_as_we_do(
    messages: list[tuple[dict[str, object], bytes]],
) -> None:
    from botocore.eventstream import EventStreamBuffer

    data = b"".join(message(headers, payload) for headers, payload in messages)
    ours, _ = _decode(data)
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    theirs = list(buffer)
    assert [(m.headers, m.payload) for m in ours] == [(m.headers, m.payload) for m in theirs]


def _fed(data: bytes, cuts: list[int]) -> tuple[list[EventStreamMessage], EventStreamDecoder]:
    decoder = EventStreamDecoder()
    offsets = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = zip([0, *offsets], [*offsets, len(data)], strict=True)
    out = [m for start, end in bounds for m in decoder.feed(data[start:end])]
    return out + decoder.finish(), decoder


@settings(max_examples=60, deadline=None)
@given(_messages, st.integers(0, 10_000), st.integers(1, 255), st.lists(st.integers(0, 2000)))
def test_a_corrupted_byte_is_caught_alike_however_the_bytes_are_cut(
    messages: list[tuple[dict[str, object], bytes]], where: int, flip: int, cuts: list[int]
) -> None:
    """One changed byte anywhere: a CRC (prelude or message) refuses that message, the ones
    before it are kept, and neither depends on the chunking."""
    frames = [message(headers, payload) for headers, payload in messages]
    data = bytearray(b"".join(frames))
    at = where % len(data)
    data[at] ^= flip
    whole, whole_decoder = _decode(bytes(data))
    chunked, chunked_decoder = _fed(bytes(data), cuts)
    assert chunked == whole
    assert (chunked_decoder.error is None) == (whole_decoder.error is None)
    assert whole_decoder.error is not None  # a CRC covers every byte of a message
    # the messages wholly before the changed byte survive, and none after it
    assert len(whole) == next(i for i, end in enumerate(_offsets(frames)) if end > at)
    assert whole == [EventStreamMessage(dict(h), p) for h, p in messages[: len(whole)]]


def _offsets(frames: list[bytes]) -> list[int]:
    """The end offset of each frame."""
    ends, total = [], 0
    for frame in frames:
        total += len(frame)
        ends.append(total)
    return ends
