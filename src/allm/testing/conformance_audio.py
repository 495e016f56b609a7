"""Numbered conformance cases for speech and transcription adapters, as pytest base classes.

Speech cases are numbered 301-306, transcription cases 401-406 (beside the chat kit's 1-12 and
the embedding and moderation kits' 101-108 and 201-206). Subclass ``SpeechAdapterConformance`` or
``TranscriptionAdapterConformance`` and implement
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
    301: "synthesize returns non-empty audio with an audio MIME type",
    302: "the request id and the request metadata reach the response",
    303: "the streamed chunks join to the synthesized audio, and collect equals synthesize",
    304: "a refusal to serve is an AdapterError with a closed reason",
    305: "an invalid request fails before any I/O",
    306: "the sync and async APIs give the same response",
}
TRANSCRIPTION_CASES: dict[int, str] = {
    401: "transcribe returns the text of the audio",
    402: "the request id and the request metadata reach the result",
    403: "segments are ordered, non-empty and inside the audio",
    404: "a refusal to serve is an AdapterError with a closed reason",
    405: "empty audio fails before any I/O",
    406: "the sync and async APIs give the same result",
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

    def test_s301_audio_is_returned(self) -> None:
        scenario = self._need("ok")
        response = allm.synthesize(scenario.engine, scenario.input, **scenario.opts)
        assert isinstance(response, allm.SpeechResponse)
        assert response.audio.data and response.audio.mime_type.startswith("audio/")

    def test_s302_identity_is_kept(self) -> None:
        scenario = self._need("ok")
        response = allm.synthesize(
            scenario.engine,
            scenario.input,
            request_id="conformance-s302",
            metadata={"job": "s302"},
            **scenario.opts,
        )
        assert response.metadata["request_id"] == "conformance-s302"
        assert response.metadata["job"] == "s302"

    def test_s303_stream_equals_whole(self) -> None:
        whole = self._need("ok")
        response = allm.synthesize(whole.engine, whole.input, request_id="s303", **whole.opts)
        streamed = self._need("ok")
        chunks = list(allm.stream_synthesize(streamed.engine, streamed.input, **streamed.opts))
        assert chunks and all(isinstance(chunk, bytes) for chunk in chunks)
        assert b"".join(chunks) == response.audio.data
        again = self._need("ok")
        stream = allm.stream_synthesize(again.engine, again.input, request_id="s303", **again.opts)
        assert stream.collect() == response

    def test_s304_refusal_is_classified(self) -> None:
        import pytest

        scenario = self._need("refusal")
        with pytest.raises(allm.AdapterError) as raised:
            allm.synthesize(scenario.engine, scenario.input, retry=False, **scenario.opts)
        self._check_refusal(raised.value, scenario)

    def test_s305_invalid_request_fails_before_io(self) -> None:
        import pytest

        scenario = self._need("ok")
        with pytest.raises(allm.ValidationError) as raised:
            allm.synthesize(scenario.engine, "", **scenario.opts)
        assert (("text",), "empty") in raised.value.errors
        if scenario.sent is not None:
            assert scenario.sent() == []

    def test_s306_sync_equals_async(self) -> None:
        scenario = self._need("ok")
        sync, asynchronous = _run(
            allm.synthesize,
            allm.asynthesize,
            scenario.engine,
            scenario.input,
            request_id="s306",
            **scenario.opts,
        )
        assert sync == asynchronous


class TranscriptionAdapterConformance(_Kit):
    """The transcription cases. Subclasses implement ``scenario``."""

    cases = TRANSCRIPTION_CASES

    def test_t401_text_is_returned(self) -> None:
        scenario = self._need("ok")
        result = allm.transcribe(scenario.engine, scenario.input, **scenario.opts)
        assert isinstance(result, allm.Transcription)
        assert result.text == scenario.expect_text

    def test_t402_identity_is_kept(self) -> None:
        scenario = self._need("ok")
        result = allm.transcribe(
            scenario.engine,
            scenario.input,
            request_id="conformance-t402",
            metadata={"job": "t402"},
            **scenario.opts,
        )
        assert result.metadata["request_id"] == "conformance-t402"
        assert result.metadata["job"] == "t402"

    def test_t403_segments_are_ordered(self) -> None:
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

    def test_t404_refusal_is_classified(self) -> None:
        import pytest

        scenario = self._need("refusal")
        with pytest.raises(allm.AdapterError) as raised:
            allm.transcribe(scenario.engine, scenario.input, retry=False, **scenario.opts)
        self._check_refusal(raised.value, scenario)

    def test_t405_empty_audio_fails_before_io(self) -> None:
        import pytest

        scenario = self._need("ok")
        with pytest.raises(allm.ValidationError) as raised:
            allm.transcribe(scenario.engine, b"", **scenario.opts)
        assert raised.value.errors == ((("audio",), "empty_audio"),)
        if scenario.sent is not None:
            assert scenario.sent() == []

    def test_t406_sync_equals_async(self) -> None:
        scenario = self._need("ok")
        sync, asynchronous = _run(
            allm.transcribe,
            allm.atranscribe,
            scenario.engine,
            scenario.input,
            request_id="t406",
            **scenario.opts,
        )
        assert sync == asynchronous
