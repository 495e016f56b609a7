"""Smaller behaviours of the OpenTelemetry bridge: sampling, name and provider derivation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from tests.observability.support import USER, fake_engine, two_tool_chat

import allm
from allm import telemetry
from allm.errors import ToolError
from allm.providers.fake import text, usage
from allm.telemetry import otel
from allm.telemetry.otel import _error_type, _model_name, _number, _provider_of


def test_metrics_are_recorded_when_spans_are_not_sampled(otel_sdk):
    otel.instrument(
        tracer_provider=TracerProvider(sampler=ALWAYS_OFF), meter_provider=otel_sdk.meter_provider
    )

    allm.generate(fake_engine([[text("x"), usage(input_tokens=9, output_tokens=1)]]), USER)
    allm.chat(two_tool_chat(), USER)

    assert otel_sdk.spans == []
    (duration,) = otel_sdk.points("gen_ai.client.operation.duration")
    assert duration.count == 3
    assert duration.attributes["gen_ai.provider.name"] == "fake"
    assert duration.attributes["gen_ai.request.model"] == "fake-model"
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in otel_sdk.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": 9 + 230, "output": 1 + 10}


def test_catalog_costs_are_span_attributes(otel_sdk):
    allm.configure(catalog=allm.catalog.BundledCatalog())
    engine = fake_engine(
        [[text("x"), usage(input_tokens=1_000_000, output_tokens=1_000_000)]],
        model="openai:gpt-4.1",
    )

    allm.generate(engine, USER)

    (span,) = otel_sdk.spans
    assert span.attributes["allm.usage.input_cost"] == pytest.approx(2.0)
    assert span.attributes["allm.usage.output_cost"] == pytest.approx(8.0)
    assert span.attributes["allm.usage.total_cost"] == pytest.approx(10.0)
    assert span.attributes["gen_ai.provider.name"] == "fake"  # the adapter that served it
    assert span.attributes["gen_ai.request.model"] == "gpt-4.1"


def test_a_failing_tracer_event_hook_is_logged(caplog):
    class Tracer:
        def start_span(self, span: telemetry.Span) -> None:
            return None

        def end_span(self, span: telemetry.Span, state: Any, error: Any) -> None:
            return None

        def on_event(self, name: str, measurements: Any, metadata: Any) -> None:
            raise RuntimeError("event bug")

    tracer = Tracer()
    telemetry.add_tracer(tracer)
    try:
        with caplog.at_level(logging.ERROR, logger="allm.telemetry"):
            telemetry.execute("allm.adapter.retry", {}, {"attempt": 1})
    finally:
        telemetry.remove_tracer(tracer)

    assert any("failed on allm.adapter.retry" in r.getMessage() for r in caplog.records)


def test_a_retry_outside_any_span_and_a_stray_timeout_are_ignored(otel_sdk):
    telemetry.execute("allm.adapter.retry", {}, {"attempt": 1, "delay_ms": 5, "reason": 429})
    telemetry.execute(
        "allm.tool.exception",
        {"duration": 0},
        {"tool_call": object(), "kind": "exit", "reason": "timeout"},
    )

    assert otel_sdk.spans == []


def test_a_tool_span_without_a_call_still_ends(otel_sdk):
    with telemetry.span("tool", {"tool": None, "tool_call": None, "request_id": "r"}) as span:
        span.stop_metadata["result"] = ToolError("not_found", tool_name="t")

    (ended,) = otel_sdk.spans
    assert ended.name == "execute_tool tool"
    assert ended.attributes["error.type"] == "not_found"


def test_an_image_span_is_a_generate_content_span(otel_sdk):
    with telemetry.span("image", {"model": "gpt-image-1", "engine": None}) as span:
        span.stop_metadata["response"] = None

    (ended,) = otel_sdk.spans
    assert ended.name == "generate_content gpt-image-1"
    assert ended.attributes["gen_ai.operation.name"] == "generate_content"


def test_helpers():
    assert _number(True, int) is None
    assert _number("3", int) is None
    assert _number(3, float) == 3.0
    assert _model_name(None) is None
    assert _model_name(("openai", "gpt-4.1")) == "gpt-4.1"
    assert _model_name(allm.ModelRef("openai", "gpt-4.1")) == "gpt-4.1"
    assert _model_name("fake:m") == "m"
    assert _model_name(42) == "42"
    engine_without = allm.Engine()
    assert _provider_of(engine_without, allm.ModelRef("anthropic", "c")) == "anthropic"
    assert _provider_of(engine_without, ("gemini", "g")) == "gemini"
    assert _provider_of(engine_without, "fake:m") == "fake"
    assert _provider_of(engine_without, "m") is None
    assert _provider_of(engine_without, None) is None
    assert _provider_of(allm.Engine(adapter="fake"), "openai:x") == "fake"
    assert _error_type(ValueError("x")) == "ValueError"
    assert _error_type(ToolError("timeout", tool_name="t")) == "timeout"
    assert _error_type(ToolError) == "allm.errors.ToolError"
    assert _error_type("error") == "error"


def test_an_image_failure_reported_in_stop_metadata_is_an_error(otel_sdk):
    from allm.errors import ImageAdapterError

    with telemetry.span("image", {"model": "gpt-image-1", "engine": None}) as span:
        span.stop_metadata.update(
            response=None, error=ImageAdapterError("rate_limited"), image_count=0
        )

    (ended,) = otel_sdk.spans
    assert ended.attributes["error.type"] == "rate_limited"
    assert ended.attributes["allm.image.count"] == 0
