"""Fixtures for the observability tests: the OpenTelemetry SDK's in-memory exporter and metric
reader behind the allm bridge, a telemetry recorder, and Fake engines with tools."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from allm import telemetry
from allm.telemetry import otel


class Otel:
    """The exported spans and metric points of one test."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, **options: Any) -> None:
        otel.instrument(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name.startswith(prefix)]

    def by_allm_span(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if (span.attributes or {}).get("allm.span") == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        parent_id = parent.context.span_id
        return [span for span in self.spans if span.parent and span.parent.span_id == parent_id]

    def points(self, metric_name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == metric_name:
                        found.extend(metric.data.data_points)
        return found


@pytest.fixture
def otel_sdk() -> Iterator[Otel]:
    """An instrumented bridge writing to the SDK's in-memory exporter and metric reader."""
    sdk = Otel()
    sdk.instrument()
    try:
        yield sdk
    finally:
        otel.uninstrument()
        sdk.tracer_provider.shutdown()
        sdk.meter_provider.shutdown()


class Recorder:
    """Every telemetry event delivered while attached."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(
        self, name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> None:
        self.events.append((name, dict(measurements), dict(metadata)))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    log = Recorder()
    handler_id = telemetry.attach(log)
    try:
        yield log
    finally:
        telemetry.detach(handler_id)
