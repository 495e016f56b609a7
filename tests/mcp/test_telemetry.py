"""One telemetry span per MCP request: on allm's bus, and in the OpenTelemetry bridge as a CLIENT
span inside the tool's execute_tool span."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tests.mcp.support import stdio_server

import allm
from allm import telemetry
from allm.providers.fake import finish, text, tool_call
from allm.telemetry import otel


def chat_with_two_calls() -> allm.ChatResult:
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={
            "scripts": [
                [tool_call(id="c1", name="add", arguments={"a": 1, "b": 2}), finish("tool_calls")],
                [tool_call(id="c2", name="die", arguments={}), finish("tool_calls")],
                [text("done"), finish("stop")],
            ]
        },
        mcp_servers=(stdio_server(),),
    )
    with engine:
        return allm.chat(engine, [allm.user("go")])


def test_each_mcp_request_is_a_span_on_the_bus() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    handler = telemetry.attach(
        lambda name, measurements, metadata: seen.append((name, dict(metadata))),
        events=["allm.mcp.start", "allm.mcp.stop"],
    )
    try:
        chat_with_two_calls()
    finally:
        telemetry.detach(handler)
    stops = [metadata for name, metadata in seen if name == "allm.mcp.stop"]
    assert [(m["method"], m["tool"]) for m in stops] == [
        ("tools/list", None),
        ("tools/call", "add"),
        ("tools/call", "die"),
    ]
    assert all(m["transport"] == "pipe" and m["server"].startswith("stdio:") for m in stops)
    assert "error" not in stops[1]
    assert stops[2]["error"].reason == "mcp_unavailable"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        otel.uninstrument()
        provider.shutdown()


def test_the_otel_bridge_nests_mcp_spans_in_execute_tool(exporter: InMemorySpanExporter) -> None:
    chat_with_two_calls()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    listing, call, died = spans["tools/list"], spans["tools/call add"], spans["tools/call die"]
    assert call.kind is SpanKind.CLIENT
    assert call.parent is not None
    assert call.parent.span_id == spans["execute_tool add"].context.span_id
    attributes = dict(call.attributes or {})
    assert attributes["mcp.method.name"] == "tools/call"
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["gen_ai.tool.name"] == "add"
    assert attributes["network.transport"] == "pipe"
    assert call.status.status_code is StatusCode.UNSET
    assert "gen_ai.operation.name" not in dict(listing.attributes or {})
    assert dict(died.attributes or {})["error.type"] == "mcp_unavailable"
    assert died.status.status_code is StatusCode.ERROR
