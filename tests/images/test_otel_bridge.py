"""The image span through the OpenTelemetry bridge: one ended CLIENT span per call, no tracer
failure (the bridge reads chat-request annotations, so the façade annotates only the provider)."""

from __future__ import annotations

import logging

import pytest
from tests.images.support import ImageDriver, fake_engine

import allm
from allm.data.messages import ImagePart
from allm.errors import ImageAdapterError
from allm.providers.fake_images import error, ok, png

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from allm.telemetry import otel

CAT = ImagePart.from_bytes(png(2, 2), "image/png")


def test_image_calls_end_their_otel_spans_without_tracer_errors(
    images: ImageDriver, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider)
    try:
        with caplog.at_level(logging.ERROR, logger="allm.telemetry"):
            engine = fake_engine([ok(CAT), error("content_filter")], model="fake-painter")
            images.generate(engine, "a cat")
            with pytest.raises(ImageAdapterError):
                images.generate(engine, "a cat")
    finally:
        otel.uninstrument()
        provider.shutdown()
    assert [r for r in caplog.records if r.name == "allm.telemetry"] == []
    spans = [
        s for s in exporter.get_finished_spans() if (s.attributes or {}).get("allm.span") == "image"
    ]
    assert len(spans) == 2
    assert all(span.end_time is not None for span in spans)
    assert allm.telemetry.tracers() == 0
