"""OpenAI transcription transcripts (tests/fixtures/wire/openai-transcription): the multipart
upload the adapter sends, field by field and byte for byte, and the ``Transcription`` it makes of
the recorded answer. Every case runs through the sync and the async API."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.audio.support import (
    NO_WAIT,
    AudioDriver,
    Replay,
    check_error,
    check_transcription,
    fixture_audio,
    multipart_parts,
)

import allm

DIR = "openai-transcription"
SUCCESS = ["verbose_json_segments", "verbose_json_words", "json_gpt4o_transcribe"]
FAILURES = ["error_400_audio_too_short", "error_400_invalid_format", "malformed_no_text"]


@pytest.fixture(params=["sync", "async"])
def audio(request: pytest.FixtureRequest) -> AudioDriver:
    return AudioDriver(request.param)


def run(audio: AudioDriver, replay: Replay, **extra: Any) -> allm.Transcription:
    engine = replay.engine("transcription_adapter", "openai_transcription", **extra)
    data = fixture_audio(replay.expect["audio"])
    return audio.transcribe(engine, data, api_key="sk-test", **replay.expect["call"])


@pytest.mark.parametrize("name", [*SUCCESS, *FAILURES])
def test_the_upload_matches_the_transcript(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    try:
        run(audio, replay)
    except allm.AdapterError:
        pass
    [sent] = replay.sent
    wanted = replay.case.request
    assert (sent.method, str(sent.url)) == (wanted["method"], wanted["url"])
    assert sent.headers["authorization"] == "Bearer sk-test"
    boundary = sent.headers["content-type"].split("boundary=", 1)[1]
    assert sent.headers["content-type"] == f"multipart/form-data; boundary={boundary}"
    assert sent.content.endswith(f"--{boundary}--\r\n".encode())
    parts = list(multipart_parts(sent))
    fields = [[n, payload.decode()] for n, filename, _, payload in parts if filename is None]
    assert fields == wanted["multipart"]["fields"]
    [file] = [(n, f, t, payload) for n, f, t, payload in parts if f is not None]
    [want] = wanted["multipart"]["files"]
    assert file[:3] == (want["name"], want["filename"], want["content_type"])
    assert hashlib.sha256(file[3]).hexdigest() == want["sha256"]
    assert len(file[3]) == want["bytes"]
    assert [n for n, *_ in parts][-1] == "file"  # the fields first, then the file (the SDK's order)


@pytest.mark.parametrize("name", SUCCESS)
def test_the_answer_is_read_into_a_transcription(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    result = run(audio, replay)
    wanted = replay.expect["transcription"]
    check_transcription(result, wanted)
    assert result.usage.extra == wanted["usage_extra"]
    assert result.metadata.get("provider_language") == wanted.get("provider_language")
    assert result.metadata["model"] == replay.expect["call"]["model"]
    assert result.metadata["openai_request_id"] == replay.expect["http"]["headers"]["x-request-id"]


@pytest.mark.parametrize("name", FAILURES)
def test_failures_are_classified_and_not_retried(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    with pytest.raises(allm.AdapterError) as raised:
        run(audio, replay)
    check_error(raised.value, replay.expect["error"])
    assert len(replay.sent) == 1


def test_a_429_is_retried_then_succeeds(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_rate_limit", "verbose_json_segments")
    result = run(audio, replay, retry=NO_WAIT)
    assert result.text == Replay(DIR, "verbose_json_segments").expect["transcription"]["text"]
    assert len(replay.sent) == 2
    first, second = (list(multipart_parts(sent)) for sent in replay.sent)
    assert first == second  # the same upload, sent again


def test_a_429_without_retries_left_keeps_its_retry_after(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_rate_limit")
    with pytest.raises(allm.errors.RateLimitError) as raised:
        run(audio, replay, retry=False)
    check_error(raised.value, replay.expect["error"])


def test_costs_follow_the_catalog(audio: AudioDriver) -> None:
    allm.configure(catalog=allm.catalog.BundledCatalog())
    whisper = run(audio, Replay(DIR, "verbose_json_segments"))
    assert whisper.usage.input_cost == pytest.approx(3 / 60 * 0.006)
    assert whisper.usage.total_cost == whisper.usage.input_cost
    tokens = run(audio, Replay(DIR, "json_gpt4o_transcribe")).usage
    assert tokens.input_cost == pytest.approx((78 * 6 + 6 * 2.5) / 1e6)
    assert tokens.output_cost == pytest.approx(11 * 10 / 1e6)
    assert tokens.total_cost == pytest.approx(tokens.input_cost + tokens.output_cost)
