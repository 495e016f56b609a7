"""Speech and transcription spans through the OpenTelemetry bridge: one CLIENT span per call,
named after its operation and model, with the provider, usage, audio facts and errors."""

from __future__ import annotations

import pytest
from tests.audio.support import Replay, fixture_audio

import allm
from allm.providers.fake import error
from allm.providers.fake_audio import tone

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from allm.telemetry import otel


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    otel.instrument(
        tracer_provider=provider,
        meter_provider=MeterProvider(metric_readers=[reader]),
        capture_content=True,
    )
    spans.reader = reader  # type: ignore[attr-defined]
    yield spans
    otel.uninstrument()
    provider.shutdown()


def test_speech_and_transcription_spans(exporter: InMemorySpanExporter) -> None:
    replay = Replay("openai-transcription", "verbose_json_segments")
    heard = replay.engine("transcription_adapter", "openai_transcription")
    allm.transcribe(heard, fixture_audio("hello"), model="whisper-1", api_key="sk-test")
    allm.synthesize(allm.Engine(speech_adapter="fake_speech", speech_model="v1"), "hi")
    failing = allm.Engine(
        transcription_adapter="fake_transcription",
        adapter_opts={"script": [error("invalid_request")]},
    )
    with pytest.raises(allm.AdapterError):
        allm.transcribe(failing, tone(10))
    listen, speak, failed = exporter.get_finished_spans()
    assert listen.name == "speech_to_text whisper-1" and listen.kind == SpanKind.CLIENT
    attributes = dict(listen.attributes or {})
    assert attributes["gen_ai.operation.name"] == "speech_to_text"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "whisper-1"
    assert attributes["gen_ai.response.model"] == "whisper-1"
    assert attributes["allm.audio.duration_ms"] == 2200
    assert attributes["allm.audio.language"] == "en"
    assert "Hello from allm" in attributes["gen_ai.output.messages"]
    assert attributes["allm.span"] == "transcribe"
    speech = dict(speak.attributes or {})
    assert speak.name == "text_to_speech v1"
    assert speech["gen_ai.operation.name"] == "text_to_speech"
    assert speech["allm.audio.bytes"] > 0
    assert failed.status.status_code == StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "invalid_request"
    data = exporter.reader.get_metrics_data()  # type: ignore[attr-defined]
    names = {
        point.attributes["gen_ai.operation.name"]
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "gen_ai.client.operation.duration"
        for point in metric.data.data_points
    }
    assert names == {"speech_to_text", "text_to_speech"}
