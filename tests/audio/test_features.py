"""FEATURES 142-143 (speech, in the shape API.md gives it), and the chunking law of speech
streams: whatever the transport's reads, the chunks are those reads and join to the body."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.audio.support import Replay, mock_clients

import allm

MP3 = Replay("openai-speech", "speech_mp3").case.body


def test_feature_142_speech_model_and_the_answers_content_type() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, headers={"content-type": "audio/wav"}, content=b"RIFF0000WAVE")

    engine = allm.Engine(
        speech_adapter="openai_speech",
        model="gpt-4o",  # a chat model: never read by speech
        speech_model="tts-1",
        adapter_opts=mock_clients(answer),
    )
    response = allm.synthesize(engine, "hi", api_key="sk-test")  # format="mp3" asked for
    assert b'"model":"tts-1"' in sent[0].content
    assert response.model == "tts-1"
    assert response.audio.mime_type == "audio/wav"  # what the server said it sent
    assert response.audio.format == "wav"


def test_feature_143_a_stream_yields_chunks_and_collects_to_synthesize() -> None:
    engine = allm.Engine(speech_adapter="fake_speech", adapter_opts={"chunk_size": 100})
    chunks = list(allm.stream_synthesize(engine, "hello", format="wav"))
    assert len(chunks) >= 1 and all(isinstance(chunk, bytes) for chunk in chunks)
    collected = allm.stream_synthesize(engine, "hello", format="wav", request_id="r").collect()
    assert collected == allm.synthesize(engine, "hello", format="wav", request_id="r")
    assert b"".join(chunks) == collected.audio.data


@settings(max_examples=40)
@given(st.lists(st.integers(1, len(MP3) - 1), max_size=12))
def test_stream_chunks_are_the_transports_reads_whatever_they_are(cuts: list[int]) -> None:
    pieces, start = [], 0
    for offset in sorted(set(cuts)):
        pieces.append(MP3[start:offset])
        start = offset
    pieces.append(MP3[start:])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "audio/mpeg"}, content=iter(pieces))

    engine = allm.Engine(speech_adapter="openai_speech", adapter_opts=mock_clients(answer))
    chunks = list(allm.stream_synthesize(engine, "hi", api_key="sk-test"))
    assert chunks == pieces
    assert b"".join(chunks) == MP3
