"""The classify span through the OpenTelemetry bridge: one INTERNAL span holding its chat span."""

from __future__ import annotations

import json

import pytest

import allm
from allm.providers.fake import finish, text

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from allm.telemetry import otel

GOOD = json.dumps({"label": "ham", "scores": {"spam": 0.1, "ham": 0.9}})
BAD = json.dumps({"label": "eggs", "scores": {"spam": 0.1, "ham": 0.9}})


def test_classify_spans_hold_their_model_call_and_report_the_label() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider)
    scripts = [[text(GOOD), finish("stop")], [text(BAD), finish("stop")]]
    engine = allm.Engine(adapter="fake", adapter_opts={"scripts": scripts}, retry=False)
    try:
        allm.classify(engine, "lunch", labels=["spam", "ham"], model="fake:mini")
        with pytest.raises(allm.OutputValidationError):
            allm.classify(engine, "lunch", labels=["spam", "ham"], output_retries=0)
    finally:
        otel.uninstrument()
        provider.shutdown()
    finished = exporter.get_finished_spans()
    ok, failed = [s for s in finished if s.attributes["allm.span"] == "classify"]
    assert ok.name == "classify mini" and ok.kind is SpanKind.INTERNAL
    assert ok.attributes["gen_ai.operation.name"] == "classify"
    assert ok.attributes["allm.classify.label"] == "ham"
    chat = next(s for s in finished if s.attributes["allm.span"] == "generate")
    assert chat.parent is not None and chat.parent.span_id == ok.context.span_id
    assert chat.attributes["gen_ai.output.type"] == "json"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "invalid_output"
    assert "allm.classify.label" not in failed.attributes
