"""The audio façade on the fakes: slots and model strings, pre-flight order, scripts, retries,
streams, costs and round trips. Every test runs through the sync and the async API."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.audio.support import AudioDriver, fixture_audio

import allm
from allm.data.audio import sniff_audio_mime, wav_duration_ms
from allm.providers.fake import error
from allm.providers.fake_audio import FakeSpeech, FakeTranscription, tone

FAST = {"base_delay_ms": 0, "jitter_ms": 0, "max_attempts": 3}


@pytest.fixture(params=["sync", "async"])
def audio(request: pytest.FixtureRequest) -> AudioDriver:
    return AudioDriver(request.param)


def speech(**fields: Any) -> allm.Engine:
    fields.setdefault("retry", FAST)
    return allm.Engine(speech_adapter="fake_speech", **fields)


def transcriber(**fields: Any) -> allm.Engine:
    fields.setdefault("retry", FAST)
    return allm.Engine(transcription_adapter="fake_transcription", **fields)


# -- slots and models ----------------------------------------------------------------------------


def test_the_speech_model_is_used_never_the_chat_model(audio: AudioDriver) -> None:
    seen: list[Any] = []
    engine = speech(model="gpt-4o", speech_model="voice-1", adapter_opts={"audio_record": seen})
    response = audio.synthesize(engine, "hi", format="wav")
    assert response.model == "voice-1"
    assert seen[0][0].model == "voice-1"
    assert response.audio.mime_type == "audio/wav"
    assert response.audio.format == "wav"
    assert audio.synthesize(engine, "hi", model="voice-2").model == "voice-2"


def test_a_provider_model_string_picks_the_adapter(audio: AudioDriver) -> None:
    response = audio.synthesize(allm.Engine(speech_model="fake:voice-3"), "hi")
    assert response.model == "voice-3"
    result = audio.transcribe(allm.Engine(transcription_model="fake:ear-1"), tone(200))
    assert result.metadata["model"] == "ear-1"


def test_no_adapter_is_an_engine_error_naming_the_slot(audio: AudioDriver) -> None:
    with pytest.raises(allm.EngineError) as raised:
        audio.synthesize(allm.Engine(adapter="fake", model="m"), "hi")
    assert raised.value.reason == "no_speech_adapter"
    assert "speech_adapter" in raised.value.message
    with pytest.raises(allm.EngineError) as raised:
        audio.transcribe(allm.Engine(transcription_model="acme:ear"), tone(100))
    assert raised.value.reason == "no_transcription_adapter"
    assert "acme" in raised.value.message


def test_an_adapter_without_the_method_is_refused(audio: AudioDriver) -> None:
    with pytest.raises(allm.EngineError) as raised:
        audio.synthesize(allm.Engine(speech_adapter=FakeTranscription()), "hi")
    assert raised.value.reason == "invalid_engine"


def test_engines_with_audio_slots_round_trip() -> None:
    engine = allm.Engine(
        speech_adapter="openai_speech",
        speech_model="tts-1",
        transcription_adapter=FakeTranscription,
        transcription_model="whisper-1",
    )
    again = allm.from_json(allm.to_json(engine))
    assert again == replace(engine, transcription_adapter="fake_transcription")  # by its name
    with pytest.raises(allm.errors.ConfigurationError, match="unknown speech_adapter"):
        allm.Engine(speech_adapter="nope")
    with pytest.raises(allm.errors.ConfigurationError, match="transcription_adapter must be"):
        allm.Engine(transcription_adapter=42)


# -- pre-flight ----------------------------------------------------------------------------------


def test_every_speech_problem_is_listed_before_any_call(audio: AudioDriver) -> None:
    seen: list[Any] = []
    engine = speech(adapter_opts={"audio_record": seen})
    with pytest.raises(allm.ValidationError) as raised:
        audio.synthesize(engine, " ", format="ogg", speed=0, voice="", options=[1])
    assert raised.value.reason == "invalid_speech_request"
    assert set(raised.value.errors) == {
        (("text",), "empty"),
        (("format",), "unsupported_format"),
        (("speed",), "not_positive"),
        (("voice",), "invalid_type"),
        (("options",), "not_a_map"),
    }
    assert seen == []
    with pytest.raises(allm.ValidationError) as raised:
        audio.synthesize(engine, 42)
    assert (("text",), "invalid_type") in raised.value.errors


def test_every_transcription_problem_is_listed_before_any_call(
    audio: AudioDriver, tmp_path: Path
) -> None:
    seen: list[Any] = []
    engine = transcriber(adapter_opts={"audio_record": seen})
    cases = [
        (b"", (("audio",), "empty_audio")),
        (b"not audio at all", (("audio",), "unknown_audio_format")),
        (tmp_path / "missing.wav", (("audio",), "unreadable_audio")),
        (3.5, (("audio",), "invalid_type")),
        (allm.Audio(b"abc", "text/plain"), (("audio", "mime_type"), "unsupported_audio_format")),
    ]
    for value, problem in cases:
        with pytest.raises(allm.ValidationError) as raised:
            audio.transcribe(engine, value)
        assert raised.value.errors == (problem,), value
    with pytest.raises(allm.ValidationError) as raised:
        audio.transcribe(engine, tone(100), timestamps="char", language=5, options=None)
    assert set(raised.value.errors) == {
        (("timestamps",), "invalid_value"),
        (("language",), "invalid_type"),
        (("options",), "not_a_map"),
    }
    assert seen == []


def test_audio_over_the_adapters_limit_is_refused(
    audio: AudioDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeTranscription, "max_audio_bytes", lambda self: 100)
    with pytest.raises(allm.ValidationError) as raised:
        audio.transcribe(transcriber(), tone(100))
    assert raised.value.errors == ((("audio",), "audio_too_large"),)


def test_audio_from_a_path_bytes_or_a_value(audio: AudioDriver, tmp_path: Path) -> None:
    path = tmp_path / "hello.wav"
    path.write_bytes(fixture_audio("hello"))
    engine = transcriber()
    by_path = audio.transcribe(engine, path, request_id="r")
    by_text_path = audio.transcribe(engine, str(path), request_id="r")
    by_bytes = audio.transcribe(engine, path.read_bytes(), request_id="r")
    by_value = audio.transcribe(engine, allm.Audio.from_file(path), request_id="r")
    assert by_path == by_text_path == by_bytes == by_value
    assert by_path.duration_ms == 2200


def test_the_catalog_stops_what_a_model_cannot_do(audio: AudioDriver) -> None:
    from allm.catalog import BundledCatalog
    from allm.data.models import ModelRef

    mute = ModelRef("fake", "mute", capabilities={"speech": False, "transcription": False})
    plain = ModelRef("fake", "plain", capabilities={"transcription": True, "timestamps": False})
    allm.configure(catalog=BundledCatalog([mute, plain]))
    with pytest.raises(allm.ValidationError) as raised:
        audio.synthesize(speech(), "hi", model="mute")
    assert raised.value.errors == ((("model",), "speech_disabled"),)
    with pytest.raises(allm.ValidationError) as raised:
        audio.transcribe(transcriber(), tone(100), model="mute")
    assert raised.value.errors == ((("model",), "transcription_disabled"),)
    with pytest.raises(allm.ValidationError) as raised:
        audio.transcribe(transcriber(), tone(100), model="plain", timestamps="word")
    assert raised.value.errors == ((("timestamps",), "timestamps_disabled"),)
    assert audio.transcribe(transcriber(), tone(100), model="plain").text


def test_openai_rules_fail_before_any_key_or_byte(audio: AudioDriver) -> None:
    engine = allm.Engine(
        speech_adapter="openai_speech", transcription_adapter="openai_transcription"
    )
    for opts, reason in (
        ({"text": "x" * 4097}, "invalid_request"),
        ({"text": "hi", "speed": 4.5}, "invalid_request"),
        ({"text": "hi", "model": "tts-1", "instructions": "whisper"}, "unsupported_feature"),
    ):
        text = opts.pop("text")
        with pytest.raises(allm.AdapterError) as raised:
            audio.synthesize(engine, text, **opts)  # no key anywhere: the check comes first
        assert raised.value.reason == reason
    with pytest.raises(allm.AdapterError) as raised:
        audio.transcribe(engine, tone(100), model="gpt-4o-transcribe", timestamps="segment")
    assert raised.value.reason == "unsupported_feature"
    with pytest.raises(allm.EngineError) as raised:
        audio.synthesize(engine, "hi")
    assert raised.value.reason == "missing_key"


# -- the fakes -----------------------------------------------------------------------------------


def test_the_fakes_are_deterministic(audio: AudioDriver) -> None:
    engine = speech()
    one = audio.synthesize(engine, "same words", voice="a", format="wav", request_id="r")
    two = audio.synthesize(speech(), "same words", voice="a", format="wav", request_id="r")
    other = audio.synthesize(engine, "other words", voice="a", format="wav", request_id="r")
    assert one == two and one.audio.data != other.audio.data
    assert wav_duration_ms(one.audio.data) == one.audio.duration_ms == 10 * 40
    mp3 = audio.synthesize(engine, "same words")
    assert mp3.audio.mime_type == "audio/mpeg" and mp3.audio.data.startswith(
        b"allm-fake-speech:mp3"
    )
    pcm = audio.synthesize(engine, "same words", voice="a", format="pcm")
    assert pcm.audio.data == one.audio.data[44:]
    heard = audio.transcribe(transcriber(), one.audio, timestamps="word", request_id="r")
    again = audio.transcribe(transcriber(), one.audio, timestamps="word", request_id="r")
    assert heard == again
    assert [w.text for w in heard.words] == heard.text.split()
    assert heard.words[-1].end_ms == heard.duration_ms == 400


def test_scripts_replay_results_and_errors_in_order(audio: AudioDriver) -> None:
    script = [
        allm.Audio(b"RIFFxxxxWAVE", "audio/wav"),
        b"raw",
        error("invalid_request", message="nope"),
        ("error", "content_filter"),
    ]
    engine = speech(adapter_opts={"speech_script": script})
    assert audio.synthesize(engine, "a").audio.mime_type == "audio/wav"
    assert audio.synthesize(engine, "b", format="flac").audio == allm.Audio(b"raw", "audio/flac")
    for reason in ("invalid_request", "content_filter", "no_scripted_response"):
        with pytest.raises(allm.AdapterError) as raised:
            audio.synthesize(engine, "c")
        assert raised.value.reason == reason
    heard = transcriber(adapter_opts={"script": ["hello", allm.Transcription("two", "fr")]})
    assert audio.transcribe(heard, tone(50), language="de").language == "de"
    assert audio.transcribe(heard, tone(50)).text == "two"


def test_retryable_script_errors_are_retried_by_the_facade(audio: AudioDriver) -> None:
    engine = transcriber(
        adapter_opts={"script": [error("rate_limited", retry_after_ms=0), error("timeout"), "ok"]}
    )
    assert audio.transcribe(engine, tone(50)).text == "ok"
    no_retry = transcriber(adapter_opts={"script": [error("rate_limited"), "ok"]}, retry=False)
    with pytest.raises(allm.errors.RateLimitError):
        audio.transcribe(no_retry, tone(50))


def test_bad_scripts_are_configuration_errors(audio: AudioDriver) -> None:
    for script, where in (([42], "speech script entry"), ("x", "must be a list")):
        with pytest.raises(allm.errors.ConfigurationError, match=where):
            audio.synthesize(speech(adapter_opts={"speech_script": script}), "a")
    with pytest.raises(allm.errors.ConfigurationError, match="unknown error reason"):
        audio.synthesize(speech(adapter_opts={"speech_script": [("error", "boom")]}), "a")
    with pytest.raises(allm.errors.ConfigurationError, match="transcription script entry"):
        audio.transcribe(transcriber(adapter_opts={"script": [3]}), tone(10))
    with pytest.raises(allm.errors.ConfigurationError, match="audio_record"):
        audio.synthesize(speech(adapter_opts={"audio_record": 3}), "a")


def test_a_response_that_is_not_one_is_malformed(audio: AudioDriver) -> None:
    class Broken(FakeSpeech):
        def synthesize(self, request: Any, call: Any) -> Any:
            yield from ()
            return "not a response"

    class Deaf(FakeTranscription):
        def transcribe(self, request: Any, call: Any) -> Any:
            yield from ()
            return None

    with pytest.raises(allm.AdapterError) as raised:
        audio.synthesize(allm.Engine(speech_adapter=Broken()), "hi")
    assert raised.value.reason == "malformed_response"
    with pytest.raises(allm.AdapterError) as raised:
        audio.transcribe(allm.Engine(transcription_adapter=Deaf()), tone(10))
    assert raised.value.reason == "malformed_response"


# -- streams -------------------------------------------------------------------------------------


def test_streams_cut_the_audio_and_collect_to_synthesize(audio: AudioDriver) -> None:
    engine = speech(adapter_opts={"chunk_size": 256})
    whole = audio.synthesize(engine, "twelve chars", format="wav", request_id="r")
    chunks = audio.chunks(engine, "twelve chars", format="wav")
    assert b"".join(chunks) == whole.audio.data
    assert {len(chunk) for chunk in chunks[:-1]} == {256}
    assert audio.collect(engine, "twelve chars", format="wav", request_id="r") == whole


def test_a_stream_is_lazy_and_closes_once() -> None:
    seen: list[Any] = []
    stream = allm.stream_synthesize(speech(adapter_opts={"audio_record": seen}), "hi")
    assert repr(stream).endswith("open>") and stream.response is None
    assert stream.mime_type == "audio/mpeg"  # the format asked for, until the answer says
    next(stream)
    stream.close()
    stream.close()
    assert repr(stream).endswith("closed>")
    assert list(stream) == []
    with pytest.raises(allm.StreamError) as raised:
        stream.collect()
    assert raised.value.reason == "cancelled"


def test_a_finished_stream_knows_its_response() -> None:
    stream = allm.stream_synthesize(speech(), "hi", format="wav")
    data = b"".join(stream)
    assert stream.response is not None and stream.response.audio.data == b""
    assert stream.mime_type == "audio/wav" and stream.received == len(data)


def test_an_adapter_without_a_stream_plan_streams_its_whole_answer(audio: AudioDriver) -> None:
    class WholeOnly:
        name = "whole"

        def synthesize(self, request: Any, call: Any) -> Any:
            yield from ()
            return allm.SpeechResponse(allm.Audio(b"abc", "audio/wav"), "m")

    engine = allm.Engine(speech_adapter=WholeOnly())
    assert audio.chunks(engine, "hi") == [b"abc"]
    assert audio.collect(engine, "hi").audio.data == b"abc"


def test_stream_preflight_errors_raise_before_a_stream_exists(audio: AudioDriver) -> None:
    with pytest.raises(allm.ValidationError):
        audio.chunks(speech(), "")
    with pytest.raises(allm.AdapterError) as raised:
        audio.chunks(speech(adapter_opts={"speech_script": [error("rate_limited")] * 3}), "hi")
    assert raised.value.reason == "rate_limited"  # retried, then raised from the first pull


def test_an_abandoned_async_stream_closes_its_plan() -> None:
    import anyio

    async def run() -> None:
        stream = await allm.astream_synthesize(speech(), "hi")
        del stream

    anyio.run(run)


# -- costs, telemetry and values -----------------------------------------------------------------


def test_speech_costs_follow_the_catalog(audio: AudioDriver) -> None:
    from allm.catalog import BundledCatalog
    from allm.data.models import ModelRef

    rows = [
        ModelRef("fake", "tts", pricing={"characters": 15}),
        ModelRef("fake", "tok", pricing={"input": 1, "audio_output": 20}),
    ]
    allm.configure(catalog=BundledCatalog(rows))
    usage = audio.synthesize(speech(), "sixteen letters!", model="tts").usage
    assert usage.input_cost == pytest.approx(16 * 15 / 1e6) and usage.total_cost == usage.input_cost
    scripted = allm.SpeechResponse(
        allm.Audio(b"x", "audio/mpeg"), "tok", allm.Usage(input_tokens=10, output_tokens=100)
    )
    priced = audio.synthesize(speech(adapter_opts={"speech_script": [scripted]}), "hi", model="tok")
    assert priced.usage.output_cost == pytest.approx(100 * 20 / 1e6)
    assert priced.usage.total_cost == pytest.approx((10 + 2000) / 1e6)


def test_spans_report_each_call(audio: AudioDriver) -> None:
    events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    handler = allm.telemetry.attach(lambda n, m, meta: events.append((n, dict(m), dict(meta))))
    try:
        audio.synthesize(speech(speech_model="v"), "hi", telemetry_metadata={"job": 1})
        audio.transcribe(transcriber(), tone(100))
        with pytest.raises(allm.AdapterError):
            audio.transcribe(
                transcriber(adapter_opts={"script": [("error", "invalid_request")]}), tone(1)
            )
        audio.chunks(speech(), "hi")
    finally:
        allm.telemetry.detach(handler)
    names = [name for name, *_ in events]
    assert names == [
        "allm.synthesize.start",
        "allm.synthesize.stop",
        "allm.transcribe.start",
        "allm.transcribe.stop",
        "allm.transcribe.start",
        "allm.transcribe.stop",
        "allm.synthesize.start",
        "allm.synthesize.stop",
        "allm.audio.first_chunk",
    ]
    start, stop = events[0][2], events[1][2]
    assert start["job"] == 1 and start["model"] == "v" and start["request_id"]
    assert stop["response"].metadata["request_id"] == start["request_id"]
    assert stop["bytes"] == len(stop["response"].audio.data) and stop["error"] is None
    assert events[3][2]["duration_ms"] == 100
    failed = events[5][2]
    assert failed["error"].reason == "invalid_request" and failed["response"] is None
    assert events[7][2]["stream"] is True
    assert events[8][1]["latency"] >= 0


values = st.builds(
    allm.Transcription,
    text=st.text(),
    language=st.none() | st.sampled_from(["en", "fr"]),
    duration_ms=st.none() | st.integers(0, 10**7),
    segments=st.lists(
        st.builds(
            allm.TranscriptSpan,
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            st.text(),
            st.none() | st.floats(-10, 0),
        ),
        max_size=3,
    ),
    metadata=st.dictionaries(st.text(max_size=5), st.integers()),
) | st.builds(
    allm.SpeechResponse,
    st.builds(allm.Audio, st.binary(max_size=64), st.sampled_from(["audio/mpeg", "audio/wav"])),
    st.none() | st.text(max_size=8),
)


@given(values)
def test_audio_values_round_trip_through_json_and_pickle(value: Any) -> None:
    assert allm.from_json(allm.to_json(value)) == value
    assert pickle.loads(pickle.dumps(value)) == value


def test_requests_and_audio_helpers() -> None:
    request = allm.TranscriptionRequest(audio=allm.Audio(b"a", "audio/wav"), timestamps="word")
    assert allm.from_json(allm.to_json(request)) == request
    speech_request = allm.SpeechRequest(text="hi", voice="alloy", speed=1.5)
    assert pickle.loads(pickle.dumps(speech_request)) == speech_request
    assert (
        repr(allm.Audio(b"abc", "audio/wav", 5)) == "Audio(<3 bytes>, 'audio/wav', duration_ms=5)"
    )
    assert allm.Audio.from_bytes(b"x", "audio/MP3; rate=1").mime_type == "audio/mpeg"
    assert allm.Audio(b"", "audio/x-unknown").extension == "bin"
    assert allm.Audio(b"", "audio/ogg").format == "ogg"
    assert [sniff_audio_mime(data) for data in (
        b"ID3...", b"\xff\xfb\x90", b"fLaC", b"OggS", b"\0\0\0\x20ftypM4A ", b"\x1a\x45\xdf\xa3",
        b"FORM\0\0\0\0AIFF", b"RIFF\0\0\0\0WAVE", b"????",
    )] == [
        "audio/mpeg", "audio/mpeg", "audio/flac", "audio/ogg", "audio/mp4", "audio/webm",
        "audio/aiff", "audio/wav", None,
    ]  # fmt: skip
    assert wav_duration_ms(b"RIFF\0\0\0\0WAVEbroken") is None
    assert wav_duration_ms(b"nope") is None


def test_tone_and_file_types(tmp_path: Path) -> None:
    path = tmp_path / "clip.xyz"
    path.write_bytes(tone(10))
    assert allm.Audio.from_file(path).mime_type == "application/octet-stream"
    assert allm.Audio.from_file(path, "audio/wav").duration_ms is None
    with pytest.raises(ValueError):
        tone(-1) if False else FakeSpeech()._chunks(b"abc", _call(chunk_size=0))


def _call(**opts: Any) -> Any:
    from allm.adapters import Call

    return Call(request_id="r", engine=allm.Engine(), adapter_opts=opts)


def test_override_and_capture_reach_the_audio_surfaces(audio: AudioDriver) -> None:
    from allm.testing import capture, override

    production = allm.Engine(
        speech_adapter="openai_speech", transcription_adapter="openai_transcription"
    )
    with capture() as seen, override("fake_speech"), override(FakeTranscription):
        spoken = audio.synthesize(production, "no key needed", format="wav")
        heard = audio.transcribe(production, spoken.audio)
    assert spoken.audio.mime_type == "audio/wav" and heard.text.startswith("fake transcript")
    speech_request, transcription_request = seen.requests
    assert isinstance(speech_request, allm.SpeechRequest) and speech_request.text == "no key needed"
    assert isinstance(transcription_request, allm.TranscriptionRequest)
    assert transcription_request.audio == spoken.audio


def test_the_fakes_read_the_engines_options_beside_any_chat_adapter(audio: AudioDriver) -> None:
    engine = allm.Engine(
        adapter="openai",
        model="gpt-4o",
        speech_adapter="fake_speech",
        transcription_adapter="fake_transcription",
        adapter_opts={"speech_script": [b"scripted"], "transcription_script": ["heard"]},
    )
    assert audio.synthesize(engine, "hi").audio.data == b"scripted"
    assert audio.transcribe(engine, tone(10)).text == "heard"
