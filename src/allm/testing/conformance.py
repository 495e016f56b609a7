"""The adapter conformance kit: numbered cases every adapter must pass, as a pytest base class.

Subclass ``AdapterConformance`` in a test module and implement ``scenario(name, chunking)``,
returning a ``Scenario`` (an engine wired to serve that scenario, plus what to expect) or
``None`` when the adapter cannot produce it (the case is then skipped, with the reason). HTTP
adapters serve recorded bytes (``httpx.MockTransport``) cut as ``chunking`` says; the Fake
provider serves scripts. Scenarios:

==================  =====================================================================
``text``            a plain answer (``expect_text``) with usage
``tool_call``       one tool call (``expect_tool``) whose arguments arrive in fragments
``rate_limited``    the provider refuses with a rate limit (``expect_reason``)
``mid_stream``      the stream fails after some text (``expect_text`` = the text before it)
``truncated``       the stream ends before its terminal event (``expect_text`` likewise)
==================  =====================================================================

Chunkings: ``"whole"``, ``"bytewise"`` and ``"split"`` (a few arbitrary cuts).

Embedding and moderation adapters have their own kits, ``EmbeddingConformance`` (cases
101-108) and ``ModerationConformance`` (201-206): subclasses implement ``scenario(name)``
returning a ``SurfaceScenario``.

The speech and transcription kits (``SpeechAdapterConformance``, cases 301-306, and
``TranscriptionAdapterConformance``, 401-406) live in
``allm.testing.conformance_audio`` and are importable from here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import allm
from allm.events import (
    ADAPTER_EVENT_TYPES,
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)

from .conformance_audio import (
    SPEECH_CASES,
    TRANSCRIPTION_CASES,
    AudioScenario,
    SpeechAdapterConformance,
    TranscriptionAdapterConformance,
)

__all__ = [
    "CASES",
    "EMBEDDING_CASES",
    "MODERATION_CASES",
    "SPEECH_CASES",
    "TRANSCRIPTION_CASES",
    "AdapterConformance",
    "AudioScenario",
    "EmbeddingConformance",
    "ModerationConformance",
    "Scenario",
    "SpeechAdapterConformance",
    "SurfaceScenario",
    "TranscriptionAdapterConformance",
]

CHUNKINGS = ("whole", "bytewise", "split")

CASES: dict[int, str] = {
    1: "a plain answer streams in the adapter grammar",
    2: "the events do not depend on how the bytes were chunked",
    3: "a refusal to serve is classified into the closed reasons",
    4: "generate equals the fold of stream_generate",
    5: "leaving a stream early cleans up exactly once",
    6: "building the request is deterministic",
    7: "the sync and async APIs give the same events",
    8: "a fragmented tool call is assembled with parsed arguments",
    9: "usage is reported with Usage field names",
    10: "a failure mid-stream keeps what came before it",
    11: "a stream cut before its terminal event is an error, never a short answer",
    12: "an invalid request fails before any I/O",
}


@dataclass
class Scenario:
    """An engine wired to serve one scenario, and what a conforming adapter produces."""

    engine: allm.Engine
    request: Any = field(default_factory=lambda: [allm.user("Hello")])
    opts: dict[str, Any] = field(default_factory=dict)
    expect_text: str | None = None
    expect_tool: str | None = None
    expect_reason: str | None = None
    closes: Callable[[], int] | None = None
    sent: Callable[[], list[Any]] | None = None


def _events(scenario: Scenario) -> list[Any]:
    return list(allm.stream_generate(scenario.engine, scenario.request, **scenario.opts))


def _async_events(scenario: Scenario) -> list[Any]:
    import anyio

    async def run() -> list[Any]:
        stream = await allm.astream_generate(scenario.engine, scenario.request, **scenario.opts)
        return [event async for event in stream]

    return anyio.run(run)


def _comparable(events: list[Any]) -> list[Any]:
    # Error values may carry the per-call request id; compare them by reason and type.
    out = []
    for event in events:
        if isinstance(event, ErrorEvent):
            out.append(("error", type(event.error).__name__, getattr(event.error, "reason", None)))
        else:
            out.append(event)
    return out


class AdapterConformance:
    """Numbered, documented cases. Subclasses implement ``scenario``."""

    __test__: ClassVar[bool] = False  # only concrete subclasses are collected

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = True

    @classmethod
    def case_count(cls) -> int:
        """How many cases the kit has (guards against silent drift)."""
        return len(CASES)

    def scenario(self, name: str, chunking: str = "whole") -> Scenario | None:
        """The engine and expectations for ``name``; ``None`` when not supported."""
        raise NotImplementedError

    def _need(self, name: str, chunking: str = "whole") -> Scenario:
        found = self.scenario(name, chunking)
        if found is None:
            import pytest

            pytest.skip(f"{type(self).__name__} has no {name!r} scenario")
        assert found is not None
        return found

    def test_c01_event_grammar(self) -> None:
        scenario = self._need("text")
        events = _events(scenario)
        assert isinstance(events[0], MessageStarted), events[:1]
        assert all(isinstance(event, ADAPTER_EVENT_TYPES) for event in events)
        terminals = [e for e in events if isinstance(e, MessageCompleted | ErrorEvent)]
        assert len(terminals) == 1 and isinstance(terminals[0], MessageCompleted)
        tail = events[events.index(terminals[0]) + 1 :]
        assert all(type(event).__name__ == "RawChunk" for event in tail)
        text = allm.StreamCollector().apply_all(events).to_response().text
        assert text == scenario.expect_text

    def test_c02_chunking_invariance(self) -> None:
        results = [_comparable(_events(self._need("text", how))) for how in CHUNKINGS]
        assert results[0] == results[1] == results[2]
        tools = [_comparable(_events(self._need("tool_call", how))) for how in CHUNKINGS]
        assert tools[0] == tools[1] == tools[2]

    def test_c03_error_classification(self) -> None:
        scenario = self._need("rate_limited")
        response = allm.generate(scenario.engine, scenario.request, **scenario.opts)
        error = response.metadata.get("error")
        assert response.finish_reason == "error"
        assert isinstance(error, allm.AdapterError) and error.reason in allm.AdapterError.reasons
        assert error.reason == scenario.expect_reason

    def test_c04_generate_equals_fold(self) -> None:
        request_id = "conformance-c04"
        for name in ("text", "tool_call"):
            folded = allm.StreamCollector(request_id=request_id)
            scenario = self._need(name)
            folded.apply_all(
                allm.stream_generate(
                    scenario.engine, scenario.request, request_id=request_id, **scenario.opts
                )
            )
            again = self._need(name)
            generated = allm.generate(
                again.engine, again.request, request_id=request_id, **again.opts
            )
            assert generated == folded.to_response()

    def test_c05_halt_safety(self) -> None:
        scenario = self._need("text")
        if scenario.closes is None:
            import pytest

            pytest.skip("the scenario cannot count clean-ups")
        stream = allm.stream_generate(scenario.engine, scenario.request, **scenario.opts)
        next(iter(stream))
        stream.close()
        stream.close()
        assert scenario.closes() == 1

    def test_c06_request_building_deterministic(self) -> None:
        first, second = self._need("text"), self._need("text")
        if first.sent is None or second.sent is None:
            import pytest

            pytest.skip("the scenario does not record what it sent")
        _events(first)
        _events(second)
        assert first.sent() == second.sent() and first.sent()

    def test_c07_sync_equals_async(self) -> None:
        for name in ("text", "tool_call"):
            sync = _comparable(_events(self._need(name)))
            asynchronous = _comparable(_async_events(self._need(name)))
            assert sync == asynchronous

    def test_c08_tool_call_assembled(self) -> None:
        scenario = self._need("tool_call")
        events = _events(scenario)
        started = [e for e in events if isinstance(e, ToolCallStarted)]
        completed = [e for e in events if isinstance(e, ToolCallCompleted)]
        assert len(started) == len(completed) >= 1
        assert completed[0].name == scenario.expect_tool
        assert isinstance(completed[0].arguments, dict) and completed[0].arguments
        deltas = "".join(
            e.arguments_delta
            for e in events
            if isinstance(e, ToolCallDelta) and e.id == completed[0].id
        )
        if deltas:
            assert json.loads(deltas) == completed[0].arguments
        response = allm.StreamCollector().apply_all(events).to_response()
        assert response.finish_reason == "tool_calls"

    def test_c09_usage_reported(self) -> None:
        scenario = self._need("text")
        response = allm.generate(scenario.engine, scenario.request, **scenario.opts)
        usage = response.usage
        assert usage.input_tokens is not None and usage.output_tokens is not None
        assert usage.total_tokens is None or usage.total_tokens >= usage.output_tokens

    def test_c10_mid_stream_failure_keeps_partial(self) -> None:
        scenario = self._need("mid_stream")
        response = allm.generate(scenario.engine, scenario.request, **scenario.opts)
        assert response.finish_reason == "error"
        assert isinstance(response.metadata.get("error"), allm.AllmError)
        assert response.text == scenario.expect_text

    def test_c11_truncated_stream_is_error(self) -> None:
        scenario = self._need("truncated")
        response = allm.generate(scenario.engine, scenario.request, **scenario.opts)
        assert response.finish_reason == "error"
        assert response.text == scenario.expect_text

    def test_c12_invalid_request_fails_before_io(self) -> None:
        import pytest

        scenario = self._need("text")
        with pytest.raises(allm.ValidationError) as info:
            allm.stream_generate(scenario.engine, [], **scenario.opts)
        assert (("messages",), "empty") in info.value.errors
        if scenario.sent is not None:
            assert scenario.sent() == []


# -- the surfaces beside chat ----------------------------------------------------------------------


@dataclass
class SurfaceScenario:
    """An engine wired to serve one embedding or moderation scenario, and what to expect.

    ``expect`` is the vectors (embeddings) or the ``flagged`` list (moderation) of a success;
    ``expect_reason`` the error reason of a refusal; ``sent`` lists what reached the wire.
    """

    engine: allm.Engine
    inputs: Any
    opts: dict[str, Any] = field(default_factory=dict)
    expect: Any = None
    expect_reason: str | None = None
    expect_requests: int | None = None
    sent: Callable[[], list[Any]] | None = None


EMBEDDING_CASES: dict[int, str] = {
    101: "a list of inputs gives one vector per input, in input order",
    102: "a single string gives one vector, and .vector is it",
    103: "inputs past batch_size are split into ceil(n / batch_size) requests, order kept",
    104: "a refusal to serve raises an AdapterError with a closed reason",
    105: "the sync and async APIs give the same response",
    106: "invalid inputs fail before any I/O, every problem listed",
    107: "building the requests is deterministic",
    108: "the response round-trips through JSON",
}

MODERATION_CASES: dict[int, str] = {
    201: "one result per input, in input order",
    202: "a refusal to serve raises an AdapterError with a closed reason",
    203: "the sync and async APIs give the same response",
    204: "invalid inputs fail before any I/O, every problem listed",
    205: "building the requests is deterministic",
    206: "the response round-trips through JSON",
}


class _SurfaceKit:
    __test__: ClassVar[bool] = False
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = not cls.__name__.startswith("_") and cls.__name__ not in (
            "EmbeddingConformance",
            "ModerationConformance",
        )

    def scenario(self, name: str) -> SurfaceScenario | None:
        """The engine and expectations for ``name``; ``None`` when not supported."""
        raise NotImplementedError

    def _need(self, name: str) -> SurfaceScenario:
        found = self.scenario(name)
        if found is None:
            import pytest

            pytest.skip(f"{type(self).__name__} has no {name!r} scenario")
        assert found is not None
        return found

    def _call(self, found: SurfaceScenario, asynchronous: bool = False, **extra: Any) -> Any:
        sync = allm.embed if self.kind == "embed" else allm.moderate
        if not asynchronous:
            return sync(found.engine, found.inputs, **found.opts, **extra)
        import anyio

        afunction = allm.aembed if self.kind == "embed" else allm.amoderate

        async def run() -> Any:
            return await afunction(found.engine, found.inputs, **found.opts, **extra)

        return anyio.run(run)

    def _refusal(self) -> None:
        import pytest

        found = self._need("refused")
        with pytest.raises(allm.AdapterError) as info:
            self._call(found)
        assert info.value.reason in allm.AdapterError.reasons
        assert info.value.reason == found.expect_reason

    def _sync_async(self, name: str) -> None:
        assert self._call(self._need(name)) == self._call(self._need(name), asynchronous=True)

    def _deterministic(self, name: str) -> None:
        first, second = self._need(name), self._need(name)
        if first.sent is None or second.sent is None:
            import pytest

            pytest.skip("the scenario does not record what it sent")
        self._call(first)
        self._call(second)
        assert first.sent() == second.sent() and first.sent()

    def _round_trip(self, name: str) -> None:
        response = self._call(self._need(name))
        assert allm.from_json(allm.to_json(response)) == response

    def _before_io(self, name: str, bad: Any, problems: int) -> None:
        import pytest

        found = self._need(name)
        with pytest.raises(allm.ValidationError) as info:
            self._call(SurfaceScenario(found.engine, bad, found.opts, sent=found.sent))
        assert len(info.value.errors) == problems
        if found.sent is not None:
            assert found.sent() == []


class EmbeddingConformance(_SurfaceKit):
    """Numbered cases for embedding adapters. Scenarios: ``"batch"`` (several inputs,
    ``expect`` their vectors), ``"single"`` (one string), ``"split"`` (``opts`` hold a
    ``batch_size`` below the input count, or ``expect_requests`` for the adapter's own limit),
    ``"refused"``
    (``expect_reason``)."""

    kind: ClassVar[str] = "embed"

    @classmethod
    def case_count(cls) -> int:
        """How many cases the kit has."""
        return len(EMBEDDING_CASES)

    def test_e101_one_vector_per_input_in_order(self) -> None:
        found = self._need("batch")
        response = self._call(found)
        assert isinstance(response, allm.EmbeddingResponse)
        assert [list(v) for v in response.vectors] == [list(v) for v in found.expect]
        assert len({len(v) for v in response.vectors}) == 1

    def test_e102_single_string(self) -> None:
        found = self._need("single")
        response = self._call(found)
        assert len(response.vectors) == 1 and response.vector == response.vectors[0]
        assert [list(response.vector)] == [list(v) for v in found.expect]

    def test_e103_batches_split_in_order(self) -> None:
        found = self._need("split")
        response = self._call(found)
        assert [list(v) for v in response.vectors] == [list(v) for v in found.expect]
        if found.expect_requests is not None:
            assert response.metadata["batches"] == found.expect_requests
        else:
            size = found.opts["batch_size"]
            assert response.metadata["batches"] == -(-len(found.inputs) // size)
        if found.sent is not None:
            assert len(found.sent()) == response.metadata["batches"]

    def test_e104_refusal_classified(self) -> None:
        self._refusal()

    def test_e105_sync_equals_async(self) -> None:
        self._sync_async("batch")

    def test_e106_invalid_inputs_before_io(self) -> None:
        self._before_io("batch", ["fine", "", 7], 2)

    def test_e107_requests_deterministic(self) -> None:
        self._deterministic("batch")

    def test_e108_json_round_trip(self) -> None:
        self._round_trip("batch")


class ModerationConformance(_SurfaceKit):
    """Numbered cases for moderation adapters. Scenarios: ``"batch"`` (several inputs,
    ``expect`` their ``flagged`` values), ``"refused"`` (``expect_reason``)."""

    kind: ClassVar[str] = "moderate"

    @classmethod
    def case_count(cls) -> int:
        """How many cases the kit has."""
        return len(MODERATION_CASES)

    def test_m201_one_result_per_input_in_order(self) -> None:
        found = self._need("batch")
        response = self._call(found)
        assert isinstance(response, allm.ModerationResponse)
        assert [result.flagged for result in response.results] == list(found.expect)
        for result in response.results:
            assert set(result.scores) <= set(result.categories) or not result.scores

    def test_m202_refusal_classified(self) -> None:
        self._refusal()

    def test_m203_sync_equals_async(self) -> None:
        self._sync_async("batch")

    def test_m204_invalid_inputs_before_io(self) -> None:
        self._before_io("batch", ["fine", "", 7], 2)

    def test_m205_requests_deterministic(self) -> None:
        self._deterministic("batch")

    def test_m206_json_round_trip(self) -> None:
        self._round_trip("batch")
