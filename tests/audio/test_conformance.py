"""The audio conformance kits bound to every speech and transcription adapter: the fakes on
scripts, the HTTP adapters on their recorded transcripts."""

from __future__ import annotations

from typing import ClassVar

from tests.audio.support import Replay, fixture_audio

import allm
from allm.providers.fake import error
from allm.providers.fake_audio import tone
from allm.testing.conformance import (
    SPEECH_CASES,
    TRANSCRIPTION_CASES,
    AudioScenario,
    SpeechAdapterConformance,
    TranscriptionAdapterConformance,
)

HELLO = "Hello from allm. It speaks every provider."


def test_the_kits_are_numbered() -> None:
    assert SpeechAdapterConformance.case_count() == len(SPEECH_CASES) == 6
    assert TranscriptionAdapterConformance.case_count() == len(TRANSCRIPTION_CASES) == 6
    for kit, prefix in ((SpeechAdapterConformance, "s"), (TranscriptionAdapterConformance, "t")):
        tests = sorted(name for name in dir(kit) if name.startswith(f"test_{prefix}"))
        assert [int(name[6:9]) for name in tests] == sorted(kit.cases)


class TestFakeSpeechConformance(SpeechAdapterConformance):
    def scenario(self, name: str) -> AudioScenario | None:
        if name == "refusal":
            script = {"speech_script": [error("content_filter")]}
            engine = allm.Engine(speech_adapter="fake_speech", adapter_opts=script)
            return AudioScenario(engine, expect_reason="content_filter")
        seen: list[object] = []
        engine = allm.Engine(speech_adapter="fake_speech", adapter_opts={"audio_record": seen})
        return AudioScenario(engine, opts={"format": "wav"}, sent=lambda: seen)


class TestOpenAISpeechConformance(SpeechAdapterConformance):
    def scenario(self, name: str) -> AudioScenario | None:
        replay = Replay(
            "openai-speech", "error_400_invalid_voice" if name == "refusal" else "speech_mp3"
        )
        engine = replay.engine("speech_adapter", "openai_speech", speech_model="gpt-4o-mini-tts")
        opts = {"voice": "robot" if name == "refusal" else "alloy", "api_key": "sk-test"}
        return AudioScenario(
            engine, opts=opts, expect_reason="invalid_request", sent=lambda: replay.sent
        )


class TestFakeTranscriptionConformance(TranscriptionAdapterConformance):
    def scenario(self, name: str) -> AudioScenario | None:
        if name == "refusal":
            script = {"transcription_script": [error("invalid_request")]}
            engine = allm.Engine(transcription_adapter="fake_transcription", adapter_opts=script)
            return AudioScenario(engine, tone(100), expect_reason="invalid_request")
        seen: list[object] = []
        engine = allm.Engine(
            transcription_adapter="fake_transcription", adapter_opts={"audio_record": seen}
        )
        audio = tone(500)
        expect = allm.transcribe(allm.Engine(transcription_adapter="fake_transcription"), audio)
        return AudioScenario(engine, audio, expect_text=expect.text, sent=lambda: seen)


class _Recorded(TranscriptionAdapterConformance):
    directory = ""
    adapter = ""
    key = ""
    cases_by_scenario: ClassVar[dict[str, str]] = {}
    refusal_reason = "invalid_request"

    def scenario(self, name: str) -> AudioScenario | None:
        case = self.cases_by_scenario.get(name)
        if case is None:
            return None
        replay = Replay(self.directory, case)
        engine = replay.engine("transcription_adapter", self.adapter)
        call = {"api_key": self.key}
        if name != "refusal":
            call.update(replay.expect["call"])
        return AudioScenario(
            engine,
            fixture_audio(replay.expect["audio"]),
            opts={k: v for k, v in call.items() if k != "timestamps"},
            expect_text=HELLO,
            expect_reason=self.refusal_reason,
            sent=lambda: replay.sent,
        )


_Recorded.__test__ = False  # the binding below each subclass gives is what runs


class TestOpenAITranscriptionConformance(_Recorded):
    directory, adapter, key = "openai-transcription", "openai_transcription", "sk-test"
    cases_by_scenario: ClassVar[dict[str, str]] = {
        "ok": "verbose_json_words",
        "segments": "verbose_json_segments",
        "refusal": "error_400_audio_too_short",
    }


class TestGeminiTranscriptionConformance(_Recorded):
    directory, adapter, key = "gemini-transcription", "gemini_transcription", "gm-test"
    cases_by_scenario: ClassVar[dict[str, str]] = {
        "ok": "transcript_plain",
        "segments": "transcript_segments",
        "refusal": "safety_blocked",
    }
    refusal_reason = "content_filter"
