"""OpenAI speech transcripts (tests/fixtures/wire/openai-speech): the JSON the adapter sends and
the audio it makes of the recorded answer, whole and streamed. Every case runs through the sync
and the async API."""

from __future__ import annotations

import json

import pytest
from tests.audio.support import AudioDriver, Replay, check_error

import allm
from allm.effects import Sleep

DIR = "openai-speech"
SUCCESS = ["speech_mp3", "speech_wav_instructions"]
FAILURES = [
    "error_400_invalid_voice",
    "error_429_insufficient_quota",
    "malformed_html_200",
    "empty_body_200",
]


@pytest.fixture(params=["sync", "async"])
def audio(request: pytest.FixtureRequest) -> AudioDriver:
    return AudioDriver(request.param)


def call_args(replay: Replay) -> tuple[str, dict[str, object]]:
    call = dict(replay.expect["call"])
    return str(call.pop("text")), {**call, "api_key": "sk-test"}


@pytest.mark.parametrize("name", SUCCESS)
def test_the_request_and_the_audio_match_the_transcript(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    text, opts = call_args(replay)
    response = audio.synthesize(replay.engine("speech_adapter", "openai_speech"), text, **opts)
    [sent] = replay.sent
    wanted = replay.case.request
    assert (sent.method, str(sent.url)) == (wanted["method"], wanted["url"])
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == wanted["body"]
    expect = replay.expect
    assert response.audio.data == replay.case.body
    assert response.audio.mime_type == expect["audio"]["mime_type"]
    assert response.model == expect["call"]["model"]
    assert response.usage.extra == expect["usage"]
    assert response.metadata["openai_request_id"] == expect["http"]["headers"]["x-request-id"]
    assert replay.closes == [1]


@pytest.mark.parametrize("name", SUCCESS)
def test_streamed_chunks_are_the_recorded_pieces(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    text, opts = call_args(replay)
    chunks = audio.chunks(replay.engine("speech_adapter", "openai_speech"), text, **opts)
    assert chunks == replay.case.chunks("boundaries")
    assert len(chunks) == len(replay.expect["transport"]["chunk_boundaries"]) + 1
    assert replay.closes == [1]


@pytest.mark.parametrize("name", SUCCESS)
def test_collecting_a_stream_equals_synthesize(audio: AudioDriver, name: str) -> None:
    whole, streamed = Replay(DIR, name), Replay(DIR, name)
    text, opts = call_args(whole)
    engine = whole.engine("speech_adapter", "openai_speech")
    one = audio.synthesize(engine, text, request_id="same", **opts)
    other = audio.collect(
        streamed.engine("speech_adapter", "openai_speech"), text, request_id="same", **opts
    )
    assert one == other


@pytest.mark.parametrize("name", FAILURES)
def test_failures_are_classified_and_not_retried(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    text, opts = call_args(replay)
    with pytest.raises(allm.AdapterError) as raised:
        audio.synthesize(replay.engine("speech_adapter", "openai_speech"), text, **opts)
    check_error(raised.value, replay.expect["error"])
    assert len(replay.sent) == 1


@pytest.mark.parametrize("name", FAILURES)
def test_streamed_failures_raise_before_any_chunk(audio: AudioDriver, name: str) -> None:
    replay = Replay(DIR, name)
    text, opts = call_args(replay)
    with pytest.raises(allm.AdapterError) as raised:
        audio.chunks(replay.engine("speech_adapter", "openai_speech"), text, **opts)
    check_error(raised.value, replay.expect["error"])
    assert replay.closes == [1]


def test_a_429_is_retried_after_its_retry_after_then_succeeds(
    audio: AudioDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def asleep(self: Sleep, scope: object) -> None:
        slept.append(self.seconds)

    monkeypatch.setattr(Sleep, "run_sync", lambda self, scope: slept.append(self.seconds))
    monkeypatch.setattr(Sleep, "run_async", asleep)
    replay = Replay(DIR, "error_429_rate_limit", "speech_mp3")
    events: list[tuple[str, dict[str, object]]] = []
    handler = allm.telemetry.attach(lambda n, m, meta: events.append((n, dict(meta))))
    try:
        text, opts = call_args(replay)
        engine = replay.engine("speech_adapter", "openai_speech", retry={"jitter_ms": 0})
        response = audio.synthesize(engine, text, **opts)
    finally:
        allm.telemetry.detach(handler)
    assert response.audio.data == Replay(DIR, "speech_mp3").case.body
    assert len(replay.sent) == 2
    retries = [meta for name, meta in events if name == "allm.adapter.retry"]
    assert [(r["attempt"], r["delay_ms"], r["reason"]) for r in retries] == [
        (1, 1200, "rate_limited")
    ]
    assert slept == [1.2]


def test_a_429_on_the_last_attempt_is_raised(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_rate_limit")
    text, opts = call_args(replay)
    engine = replay.engine("speech_adapter", "openai_speech", retry=False)
    with pytest.raises(allm.errors.RateLimitError) as raised:
        audio.synthesize(engine, text, **opts)
    check_error(raised.value, replay.expect["error"])
    assert len(replay.sent) == 1


def test_a_streamed_429_is_retried_before_the_first_chunk(audio: AudioDriver) -> None:
    replay = Replay(DIR, "error_429_rate_limit", "speech_mp3")
    text, opts = call_args(replay)
    engine = replay.engine("speech_adapter", "openai_speech", retry={**_instant()})
    chunks = audio.chunks(engine, text, **opts)
    assert b"".join(chunks) == Replay(DIR, "speech_mp3").case.body
    assert len(replay.sent) == 2


def _instant() -> dict[str, object]:
    return {"base_delay_ms": 0, "jitter_ms": 0, "respect_retry_after": False}
