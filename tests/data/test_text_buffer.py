"""TextBuffer keeps text, not pieces: the same string as joining a list, in memory that grows with
the characters (traced allocations, not timing)."""

from __future__ import annotations

import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from allm._text import BLOCK, TextBuffer
from allm.collector import StreamCollector
from allm.events import TextDelta, ToolCallDelta, ToolCallStarted


@given(st.text(max_size=5), st.lists(st.text(max_size=4), max_size=3 * BLOCK))
def test_a_buffer_reads_as_its_pieces_joined(start: str, pieces: list[str]) -> None:
    buffer = TextBuffer(start)
    for piece in pieces:
        buffer.append(piece)
    expected = start + "".join(pieces)
    assert buffer.text() == expected
    assert "".join(buffer) == expected
    assert buffer.text() == expected  # a second read is the same
    assert bool(buffer) == bool(start or pieces)
    assert repr(buffer) == f"TextBuffer({expected!r})"


def test_a_long_stream_of_deltas_costs_its_characters() -> None:
    pieces = 100_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        collector = StreamCollector()
        collector.apply(ToolCallStarted("c1", "f"))
        for number in range(pieces):
            collector.apply(TextDelta(f"{number % 100:02d}"))  # fresh two-character strings
            collector.apply(ToolCallDelta("c1", f"{number % 100:02d}"))
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Two characters of text and two of arguments per piece; a list would keep ~60 bytes each.
    assert (after - before) / pieces < 6
    response = collector.to_response()
    assert len(response.text) == 2 * pieces
    assert len(response.tool_calls[0].raw_arguments or "") == 2 * pieces
