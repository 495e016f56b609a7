"""The embed and moderate spans through the OpenTelemetry bridge."""

from __future__ import annotations

import pytest

import allm
from allm.providers.fake_embeddings import error

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from allm.telemetry import otel


def test_embeddings_and_moderation_spans_follow_the_genai_conventions() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    otel.instrument(tracer_provider=provider, meter_provider=meters)
    engine = allm.Engine(
        embedding_adapter="fake_embeddings",
        moderation_adapter="fake_moderation",
        retry=False,
    )
    try:
        allm.embed(engine, ["one two", "three"], dimensions=6, model="fake:mini")
        with pytest.raises(allm.AdapterError):
            allm.embed(engine, "x", adapter_opts={"embedding_script": [error("invalid_request")]})
        allm.moderate(engine, "flagme")
    finally:
        otel.uninstrument()
        provider.shutdown()
    spans = {span.attributes["allm.span"]: span for span in exporter.get_finished_spans()}
    ok, failed = [s for s in exporter.get_finished_spans() if s.attributes["allm.span"] == "embed"]
    attributes = dict(ok.attributes or {})
    assert ok.name == "embeddings mini"
    assert attributes["gen_ai.operation.name"] == "embeddings"
    assert attributes["gen_ai.provider.name"] == "fake"
    assert attributes["gen_ai.request.model"] == "mini"
    assert attributes["gen_ai.response.model"] == "mini"
    assert attributes["gen_ai.embeddings.dimension.count"] == 6
    assert attributes["gen_ai.usage.input_tokens"] == 3
    assert attributes["allm.input_count"] == 2
    assert failed.attributes["error.type"] == "invalid_request"
    moderation = dict(spans["moderate"].attributes or {})
    assert moderation["gen_ai.operation.name"] == "moderation"
    assert moderation["allm.moderation.flagged"] is True
    metrics = reader.get_metrics_data()
    names = {
        metric.name
        for resource in metrics.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert "gen_ai.client.operation.duration" in names
