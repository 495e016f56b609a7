"""Numbered conformance cases for speech and transcription adapters, as pytest base classes.

Subclass ``SpeechAdapterConformance`` or ``TranscriptionAdapterConformance`` and implement
``scenario(name)``, returning an ``AudioScenario`` (an engine wired to serve it, the call's input
and options, what to expect) or ``None`` when the adapter cannot produce it (the case is then
skipped). HTTP adapters serve recorded bytes; the fakes serve scripts. Scenarios:

=============  ==================================================================================
``ok``         a successful call (``expect_text`` for a transcription)
``segments``   a transcription asked for ``timestamps="segment"`` (transcription only)
``refusal``    the provider refuses to serve (``expect_reason``)
=============  ==================================================================================

A scenario's ``sent`` (a callable returning what reached the wire, in order) lets the kit check
that a bad request never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import allm

__all__ = [
    "SPEECH_CASES",
    "TRANSCRIPTION_CASES",
    "AudioScenario",
    "SpeechAdapterConformance",
    "TranscriptionAdapterConformance",
]

SPEECH_CASES: dict[int, str] = {
    1: "synthesize returns non-empty audio with an audio MIME type",
    2: "the request id and the request metadata reach the response",
    3: "the streamed chunks join to the synthesized audio, and collect equals synthesize",
    4: "a refusal to serve is an AdapterError with a closed reason",
    5: "an invalid request fails before any I/O",
    6: "the sync and async APIs give the same response",
}
TRANSCRIPTION_CASES: dict[int, str] = {
    1: "transcribe returns the text of the audio",
    2: "the request id and the request metadata reach the result",
    3: "segments are ordered, non-empty and inside the audio",
    4: "a refusal to serve is an AdapterError with a closed reason",
    5: "empty audio fails before any I/O",
    6: "the sync and async APIs give the same result",
}


@dataclass
class AudioScenario:
    """An engine wired to serve one scenario, and what a conforming adapter produces."""

    engine: allm.Engine
    input: Any = "Hello from allm."
    opts: dict[str, Any] = field(default_factory=dict)
    expect_text: str | None = None
    expect_reason: str | None = None
    sent: Callable[[], list[Any]] | None = None


def _run(sync: Callable[..., Any], asynchronous: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    import anyio

    async def run() -> Any:
        return await asynchronous(*args, **kw)

    return sync(*args, **kw), anyio.run(run)


class _Kit:
    __test__: ClassVar[bool] = False  # only concrete subclasses are collected
    cases: ClassVar[dict[int, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ != __name__:
            cls.__test__ = True

    @classmethod
    def case_count(cls) -> int:
        """How many cases the kit has (guards against silent drift)."""
        return len(cls.cases)

    def scenario(self, name: str) -> AudioScenario | None:
        """The engine and expectations for ``name``; ``None`` when not supported."""
        raise NotImplementedError

    def _need(self, name: str) -> AudioScenario:
        found = self.scenario(name)
        if found is None:
            import pytest

            pytest.skip(f"{type(self).__name__} has no {name!r} scenario")
        assert found is not None
        return found

    @staticmethod
    def _check_refusal(error: BaseException, scenario: AudioScenario) -> None:
        assert isinstance(error, allm.AdapterError), error
        assert error.reason in allm.AdapterError.reasons
        assert error.reason == scenario.expect_reason


class SpeechAdapterConformance(_Kit):
    """The speech cases. Subclasses implement ``scenario``."""

    cases = SPEECH_CASES

    def test_s01_audio_is_returned(self) -> None:
        scenario = self._need("ok")
        response = allm.synthesize(scenario.engine, scenario.input, **scenario.opts)
        assert isinstance(response, allm.SpeechResponse)
        assert response.audio.data and response.audio.mime_type.startswith("audio/")

    def test_s02_identity_is_kept(self) -> None:
        scenario = self._need("ok")
        response = allm.synthesize(
            scenario.engine,
            scenario.input,
            request_id="conformance-s02",
            metadata={"job": "s02"},
            **scenario.opts,
        )
        assert response.metadata["request_id"] == "conformance-s02"
        assert response.metadata["job"] == "s02"

    def test_s03_stream_equals_whole(self) -> None:
        whole = self._need("ok")
        response = allm.synthesize(whole.engine, whole.input, request_id="s03", **whole.opts)
        streamed = self._need("ok")
        chunks = list(allm.stream_synthesize(streamed.engine, streamed.input, **streamed.opts))
        assert chunks and all(isinstance(chunk, bytes) for chunk in chunks)
        assert b"".join(chunks) == response.audio.data
        again = self._need("ok")
        stream = allm.stream_synthesize(again.engine, again.input, request_id="s03", **again.opts)
        assert stream.collect() == response

    def test_s04_refusal_is_classified(self) -> None:
        import pytest

        scenario = self._need("refusal")
        with pytest.raises(allm.AdapterError) as raised:
            allm.synthesize(scenario.engine, scenario.input, retry=False, **scenario.opts)
        self._check_refusal(raised.value, scenario)

    def test_s05_invalid_request_fails_before_io(self) -> None:
        import pytest

        scenario = self._need("ok")
        with pytest.raises(allm.ValidationError) as raised:
            allm.synthesize(scenario.engine, "", **scenario.opts)
        assert (("text",), "empty") in raised.value.errors
        if scenario.sent is not None:
            assert scenario.sent() == []

    def test_s06_sync_equals_async(self) -> None:
        scenario = self._need("ok")
        sync, asynchronous = _run(
            allm.synthesize,
            allm.asynthesize,
            scenario.engine,
            scenario.input,
            request_id="s06",
            **scenario.opts,
        )
        assert sync == asynchronous


class TranscriptionAdapterConformance(_Kit):
    """The transcription cases. Subclasses implement ``scenario``."""

    cases = TRANSCRIPTION_CASES

    def test_t01_text_is_returned(self) -> None:
        scenario = self._need("ok")
        result = allm.transcribe(scenario.engine, scenario.input, **scenario.opts)
        assert isinstance(result, allm.Transcription)
        assert result.text == scenario.expect_text

    def test_t02_identity_is_kept(self) -> None:
        scenario = self._need("ok")
        result = allm.transcribe(
            scenario.engine,
            scenario.input,
            request_id="conformance-t02",
            metadata={"job": "t02"},
            **scenario.opts,
        )
        assert result.metadata["request_id"] == "conformance-t02"
        assert result.metadata["job"] == "t02"

    def test_t03_segments_are_ordered(self) -> None:
        scenario = self._need("segments")
        result = allm.transcribe(
            scenario.engine, scenario.input, timestamps="segment", **scenario.opts
        )
        assert result.segments
        ends = [span.end_ms for span in result.segments]
        assert all(span.start_ms <= span.end_ms for span in result.segments)
        assert ends == sorted(ends)
        assert all(span.text for span in result.segments)
        if result.duration_ms is not None:
            assert ends[-1] <= result.duration_ms

    def test_t04_refusal_is_classified(self) -> None:
        import pytest

        scenario = self._need("refusal")
        with pytest.raises(allm.AdapterError) as raised:
            allm.transcribe(scenario.engine, scenario.input, retry=False, **scenario.opts)
        self._check_refusal(raised.value, scenario)

    def test_t05_empty_audio_fails_before_io(self) -> None:
        import pytest

        scenario = self._need("ok")
        with pytest.raises(allm.ValidationError) as raised:
            allm.transcribe(scenario.engine, b"", **scenario.opts)
        assert raised.value.errors == ((("audio",), "empty_audio"),)
        if scenario.sent is not None:
            assert scenario.sent() == []

    def test_t06_sync_equals_async(self) -> None:
        scenario = self._need("ok")
        sync, asynchronous = _run(
            allm.transcribe,
            allm.atranscribe,
            scenario.engine,
            scenario.input,
            request_id="t06",
            **scenario.opts,
        )
        assert sync == asynchronous
