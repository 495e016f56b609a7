"""Batch control calls through the OpenTelemetry bridge: one CLIENT span per operation."""

from __future__ import annotations

import pytest

import allm
import allm.batch as batch
from allm.providers.fake import text

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from allm.telemetry import otel


def test_batch_spans() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider)
    engine = allm.Engine(adapter="fake", model="m", adapter_opts={"script": [text("x")]})
    try:
        job = batch.submit(engine, [allm.request([allm.user("a")])])
        batch.wait(engine, job, poll_interval=0)
        with pytest.raises(allm.ValidationError):
            batch.submit(engine, [])
    finally:
        otel.uninstrument()
        provider.shutdown()
    spans = [s for s in exporter.get_finished_spans() if s.attributes["allm.span"] == "batch"]
    assert len(spans) == 3 and all(s.kind is SpanKind.CLIENT for s in spans)
    assert {s.attributes["gen_ai.operation.name"] for s in spans} == {"batch"}
    assert spans[-1].status.status_code is StatusCode.ERROR
