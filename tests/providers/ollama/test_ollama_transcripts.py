"""The Ollama transcripts (tests/fixtures/wire/ollama/, composed by compose_ollama.py):
streamed whole, byte by byte and cut at a few places, answered whole, generate == the fold of
the stream; the conformance kit bound to them."""

from __future__ import annotations

from typing import ClassVar

import pytest
from tests.providers.conformance import Transcripts
from tests.providers.recorded import (
    assert_matches,
    cases_of,
    fold_matches_generate,
    replay_streamed,
    replay_whole,
)
from tests.providers.wire import load

from allm.providers.ollama import Ollama
from allm.testing.conformance import AdapterConformance

PROVIDER = "ollama"
CASES = cases_of(PROVIDER)
STREAMED = [n for n in CASES if load(PROVIDER, n).expect["stream"]]
WHOLE = [n for n in CASES if not load(PROVIDER, n).expect["stream"]]


def test_there_are_enough_transcripts_of_both_kinds() -> None:
    assert len(CASES) >= 12 and len(WHOLE) >= 4
    for name in CASES:
        assert "ollama" in load(PROVIDER, name).expect["notes"][0], name


@pytest.mark.parametrize("name", STREAMED)
@pytest.mark.parametrize("how", ["whole", "bytewise", [5, 64, 65, 300]])
def test_transcript_streamed(name: str, how: object) -> None:
    case = load(PROVIDER, name)
    assert_matches(case, replay_streamed(case, how))


@pytest.mark.parametrize("name", WHOLE)
def test_transcript_not_streamed(name: str) -> None:
    case = load(PROVIDER, name)
    assert_matches(case, replay_whole(case))


@pytest.mark.parametrize("name", STREAMED)
def test_generate_is_the_fold_of_the_stream(name: str) -> None:
    fold_matches_generate(load(PROVIDER, name))


class TestOllamaConformance(Transcripts, AdapterConformance):
    directory = PROVIDER
    model = "llama3.2"
    make_adapter = Ollama
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429",
        "mid_stream": "stream_error",
        "truncated": "stream_truncated",
    }
