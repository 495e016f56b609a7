"""Gemini transcription transcripts (tests/fixtures/wire/gemini-transcription): the
``generateContent`` body with the audio inline and the response schema, and the ``Transcription``
made of the recorded answer. Every case runs through the sync and the async API."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from tests.audio.support import (
    NO_WAIT,
    AudioDriver,
    Replay,
    check_error,
    check_transcription,
    fixture_audio,
)

import allm
from allm.providers.gemini_transcription import transcription_schema

DIR = "gemini-transcription"
SUCCESS = ["transcript_plain", "transcript_segments", "empty_audio"]
FAILURES = ["error_400_invalid_argument", "malformed_not_json", "safety_blocked", "max_tokens_cut"]


@pytest.fixture(params=["sync", "async"])
def audio(request: pytest.FixtureRequest) -> AudioDriver:
    return AudioDriver(request.param)


def run(audio: AudioDriver, replay: Replay, **extra: Any) -> allm.Transcription:
    engine = replay.engine("transcription_adapter", "gemini_transcription", **extra)
    data = fixture_audio(replay.expect["audio"])
    call = dict(replay.expect["call"])
    if "maxOutputTokens" in call:
        call["options"] = {"maxOutputTokens": call.pop("maxOutputTokens")}
    return audio.transcribe(
        engine, allm.Audio.from_bytes(data, "audio/wav"), api_key="gm-test", **call
    )


@pytest.mark.parametrize("name", [*SUCCESS, *FAILURES])
def test_the_request_matches_the_transcript(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    try:
        run(audio, replay)
    except allm.AdapterError:
        pass
    [sent] = replay.sent
    wanted = replay.case.request
    assert (sent.method, str(sent.url)) == (wanted["method"], wanted["url"])
    assert sent.headers["x-goog-api-key"] == "gm-test"
    assert "key=" not in str(sent.url)
    body = json.loads(sent.content)
    [content] = body["contents"]
    assert content["role"] == "user"
    instruction, inline = content["parts"]
    assert "Transcribe" in instruction["text"]
    want = wanted["body"]["contents"][0]["parts"][1]["inlineData"]
    assert inline["inlineData"]["mimeType"] == want["mimeType"]
    data = base64.b64decode(inline["inlineData"]["data"])
    assert hashlib.sha256(data).hexdigest() == want["data"]["base64_of"]["sha256"]
    config = body["generationConfig"]
    timestamps = wanted["body"]["generationConfig"]["timestamps"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == transcription_schema(timestamps)
    if timestamps:
        assert "segments" in instruction["text"]
    if replay.expect["call"].get("language"):
        assert "'en'" in instruction["text"]


@pytest.mark.parametrize("name", SUCCESS)
def test_the_answer_is_read_into_a_transcription(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    result = run(audio, replay)
    check_transcription(result, replay.expect["transcription"])
    assert result.metadata["model"] == "gemini-2.5-flash"
    assert result.metadata["gemini_response_id"]


@pytest.mark.parametrize("name", FAILURES)
def test_failures_are_classified_and_not_retried(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    with pytest.raises(allm.AdapterError) as raised:
        run(audio, replay)
    check_error(raised.value, replay.expect["error"])
    assert len(replay.sent) == 1


def test_a_resource_exhausted_429_is_retried_after_its_retry_info(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_resource_exhausted", "transcript_plain")
    result = run(audio, replay, retry=NO_WAIT)
    assert result.text == Replay(DIR, "transcript_plain").expect["transcription"]["text"]
    assert len(replay.sent) == 2


def test_a_resource_exhausted_429_without_retries_left(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_resource_exhausted")
    with pytest.raises(allm.errors.RateLimitError) as raised:
        run(audio, replay, retry=False)
    check_error(raised.value, replay.expect["error"])


def test_a_provider_model_string_picks_the_adapter(audio: AudioDriver) -> None:
    replay = Replay(DIR, "transcript_plain")
    engine = allm.Engine(
        transcription_model="gemini:gemini-2.5-flash", adapter_opts=replay.clients()
    )
    result = audio.transcribe(engine, fixture_audio("hello"), api_key="gm-test")
    assert result.text.startswith("Hello from allm")
    assert str(replay.sent[0].url).endswith("/models/gemini-2.5-flash:generateContent")


def test_formats_gemini_cannot_read_fail_before_any_io(audio: AudioDriver) -> None:
    replay = Replay(DIR, "transcript_plain")
    engine = replay.engine("transcription_adapter", "gemini_transcription")
    webm = allm.Audio(b"\x1a\x45\xdf\xa3" + b"\x00" * 64, "audio/webm")
    with pytest.raises(allm.AdapterError) as raised:
        audio.transcribe(engine, webm, api_key="gm-test")
    assert raised.value.reason == "unsupported_feature"
    assert raised.value.metadata["mime_type"] == "audio/webm"
    assert replay.sent == []
