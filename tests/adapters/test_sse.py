"""The SSE decoder: WHATWG line rules, fields, and invariance under any chunking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allm.adapters.sse import SSEDecoder, SSEEvent
from allm.errors import AdapterError, MalformedResponseError


def decode(*chunks: bytes, max_line_bytes: int | None = None) -> list[SSEEvent]:
    decoder = SSEDecoder() if max_line_bytes is None else SSEDecoder(max_line_bytes)
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.finish())
    return events


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending_dispatches(newline: bytes) -> None:
    body = b"data: one" + newline + newline + b"data: two" + newline + newline
    assert [e.data for e in decode(body)] == ["one", "two"]


def test_crlf_split_across_two_reads_is_one_line_break() -> None:
    # The trap STYLE.md records for the original decoder.
    events = decode(b"data: ::::::\r", b"\ndata: \r\n\r\n")
    assert [e.data for e in events] == ["::::::\n"]


def test_lone_cr_at_the_end_of_a_read_then_more_data() -> None:
    assert [e.data for e in decode(b"data: a\r", b"\r", b"data: b\r\r")] == ["a", "b"]


def test_comments_are_ignored_even_inside_a_block() -> None:
    body = b": keep-alive\ndata: x\n: OPENROUTER PROCESSING\ndata: y\n\n"
    assert [e.data for e in decode(body)] == ["x\ny"]


def test_multi_line_data_joins_with_newline() -> None:
    assert decode(b'data: {\ndata: "a": 1\ndata: }\n\n')[0].data == '{\n"a": 1\n}'


def test_only_one_space_after_the_colon_is_stripped() -> None:
    events = decode(b"data:no-space\n\ndata:  two-spaces\n\n")
    assert [e.data for e in events] == ["no-space", " two-spaces"]


def test_event_id_and_retry_fields_are_kept_apart_from_data() -> None:
    body = b"event: message_start\nid: 7\nretry: 1500\ndata: {}\n\ndata: next\n\n"
    first, second = decode(body)
    assert (first.event, first.id, first.retry, first.data) == ("message_start", "7", 1500, "{}")
    assert (second.event, second.id, second.retry) == ("message", "7", None)  # id persists


def test_field_order_is_free_and_a_line_without_colon_is_a_field_name() -> None:
    first, second = decode(b"data: x\nevent: ping\n\ndata\n\n")
    assert (first.event, first.data) == ("ping", "x")
    assert second.data == ""


def test_a_block_without_data_dispatches_nothing() -> None:
    assert decode(b"retry: 10\n\nid: 3\n\nevent: x\n\n") == []


def test_an_unterminated_block_at_the_end_is_discarded() -> None:
    assert [e.data for e in decode(b'data: whole\n\ndata: {"half')] == ["whole"]


def test_a_utf8_character_split_across_reads_survives() -> None:
    raw = "data: São Paulo 🌧\n\n".encode()
    cut = raw.index("ã".encode()) + 1
    assert decode(raw[:cut], raw[cut:])[0].data == "São Paulo 🌧"


def test_an_oversized_line_is_a_malformed_response_not_unbounded_memory() -> None:
    decoder = SSEDecoder(max_line_bytes=64)
    assert decoder.feed(b"data: " + b"x" * 40) == []
    assert decoder.feed(b"y" * 40) == []
    assert isinstance(decoder.error, MalformedResponseError)
    assert isinstance(decoder.error, AdapterError)
    assert decoder.error.reason == "malformed_response"
    assert decoder.feed(b"\n\ndata: later\n\n") == []  # the decoder stays stopped


def test_events_before_an_oversized_line_in_the_same_read_are_kept() -> None:
    decoder = SSEDecoder(max_line_bytes=16)
    events = decoder.feed(b"data: ok\n\ndata: " + b"z" * 32 + b"\n\n")
    assert [event.data for event in events] == ["ok"]
    assert isinstance(decoder.error, MalformedResponseError)


def test_empty_reads_are_harmless() -> None:
    assert [e.data for e in decode(b"", b"data: a\n", b"", b"\n")] == ["a"]


# -- the law: any chunking of the same bytes gives the same events --------------------------

_lines = st.lists(
    st.one_of(
        st.text(
            alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
            max_size=12,
        ).map(lambda t: "data: " + t),
        st.sampled_from(["event: delta", "id: 9", "retry: 30", ": comment", "data", ""]),
    ),
    max_size=25,
)


@given(
    lines=_lines,
    newline=st.sampled_from(["\n", "\r", "\r\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=20),
)
def test_chunking_invariance(lines: list[str], newline: str, cuts: list[int]) -> None:
    body = (newline.join(lines) + newline + newline).encode()
    whole = decode(body)
    pieces, start = [], 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(body):
            pieces.append(body[start:cut])
            start = cut
    pieces.append(body[start:])
    assert decode(*pieces) == whole
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == whole


@given(lines=_lines, newline=st.sampled_from(["\n", "\r", "\r\n"]))
def test_one_read_per_event_decodes_as_byte_by_byte(lines: list[str], newline: str) -> None:
    # Servers write one event per read: those reads take the whole-event path of the decoder.
    body = (newline.join(lines) + newline + newline).encode()
    blank = (newline + newline).encode()
    reads, start = [], 0
    while (end := body.find(blank, start)) != -1:
        reads.append(body[start : end + len(blank)])
        start = end + len(blank)
    reads.append(body[start:])
    assert b"".join(reads) == body
    assert decode(*reads) == decode(*(body[i : i + 1] for i in range(len(body))))


@pytest.mark.parametrize(
    "reads",
    [
        [b"id: 4\n", b"data: a\n\n", b"data: b\n\n"],
        [b"event: delta\n", b"data: a\n\n"],
        [b"retry: 30\n", b"data: a\n\n"],
        [b"data: a\n", b"data: b\n\n"],
        [b"data: a\r\n\r\n", b"data: b\r\n\r\n"],
        [b"data:a\n\n", b"data: a\rb\n\n", b"data: a\r\n\n"],
    ],
)
def test_whole_event_reads_keep_what_earlier_reads_started(reads: list[bytes]) -> None:
    joined = b"".join(reads)
    assert decode(*reads) == decode(*(joined[i : i + 1] for i in range(len(joined))))


_field_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
    max_size=12,
)


@given(
    events=st.lists(
        st.tuples(_field_text, _field_text, st.sampled_from(["event: ", "event:"])), max_size=8
    )
)
def test_named_events_one_per_read_decode_as_byte_by_byte(
    events: list[tuple[str, str, str]],
) -> None:
    # Anthropic writes ``event:`` and ``data:`` in one read: the named-event path of the decoder.
    reads = [f"{prefix}{name}\ndata: {data}\n\n".encode() for name, data, prefix in events]
    joined = b"".join(reads)
    decoded = decode(*reads)
    assert decoded == decode(*(joined[i : i + 1] for i in range(len(joined))))
    expected = []
    for name, data, prefix in events:
        value = (prefix + name)[6:]
        expected.append((value.removeprefix(" ") or "message", data))
    assert [(e.event, e.data) for e in decoded] == expected


@pytest.mark.parametrize(
    "reads",
    [
        [b"event: a\ndata: x\ndata: y\n\n"],  # two data lines
        [b"event: a\ndata: x\n\nevent: b\ndata: y\n\n"],  # two events in one read
        [b"event: a\r\ndata: x\r\n\r\n"],  # CRLF framed
        [b"event: a\nid: 3\ndata: x\n\n"],  # another field between
        [b"event: a\ndata: x\n", b"\n"],  # the blank line in the next read
        [b"id: 7\n\n", b"event: a\ndata: x\n\n"],  # the last id carries over
        [b"event: a"],  # no line end at all
    ],
)
def test_named_event_reads_of_other_shapes_take_the_general_path(reads: list[bytes]) -> None:
    joined = b"".join(reads)
    assert decode(*reads) == decode(*(joined[i : i + 1] for i in range(len(joined))))


def test_a_named_event_over_the_line_limit_fails_as_on_the_general_path() -> None:
    for chunk in (
        b"event: a\ndata: " + b"x" * 40 + b"\n\n",
        b"event: " + b"n" * 40 + b"\ndata: x\n\n",
    ):
        decoder = SSEDecoder(32)
        assert decoder.feed(chunk) == []
        assert isinstance(decoder.error, MalformedResponseError)
