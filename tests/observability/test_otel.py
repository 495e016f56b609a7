"""The OpenTelemetry bridge, checked with the SDK's in-memory exporter and metric reader."""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from tests.observability.support import USER, fake_engine, tool, two_tool_chat

import allm
from allm import telemetry
from allm.errors import EngineError, ValidationError
from allm.providers.fake import finish, text, tool_call, usage
from allm.telemetry import otel


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


# -- acceptance: chat > step > execute_tool ----------------------------------------------------


def run_chat(api: str, engine: allm.Engine, **opts: Any) -> allm.ChatResult:
    if api == "sync":
        return allm.chat(engine, USER, **opts)

    async def main() -> allm.ChatResult:
        return await allm.achat(engine, USER, **opts)

    return anyio.run(main)


@pytest.mark.parametrize("api", ["sync", "async"])
def test_chat_with_two_tool_calls_nests_chat_step_and_tool_spans(otel_sdk, api):
    result = run_chat(api, two_tool_chat(), request_id="req-otel", temperature=0.3)

    (chat,) = otel_sdk.by_allm_span("chat")
    steps = otel_sdk.by_allm_span("step")
    tools = otel_sdk.by_allm_span("tool")
    assert len(otel_sdk.spans) == 5
    assert (len(steps), len(tools)) == (2, 2)
    assert chat.parent is None
    assert sorted(otel_sdk.children(chat), key=lambda s: s.start_time) == sorted(
        steps, key=lambda s: s.start_time
    )
    first_step = min(steps, key=lambda s: s.start_time)
    assert sorted(s.name for s in otel_sdk.children(first_step)) == [
        "execute_tool a",
        "execute_tool b",
    ]
    assert all(s.context.trace_id == chat.context.trace_id for s in otel_sdk.spans)

    assert chat.name == "invoke_agent"
    assert chat.kind is SpanKind.INTERNAL
    assert attrs(chat)["gen_ai.operation.name"] == "invoke_agent"
    assert attrs(chat)["gen_ai.usage.input_tokens"] == 230
    assert attrs(chat)["gen_ai.usage.output_tokens"] == 10
    assert attrs(chat)["gen_ai.usage.cache_read.input_tokens"] == 40
    assert attrs(chat)["gen_ai.usage.cache_creation.input_tokens"] == 20
    assert attrs(chat)["allm.chat.halted_reason"] == "completed"
    assert attrs(chat)["allm.chat.steps"] == 2
    assert attrs(chat)["allm.request_id"] == "req-otel"

    by_order = sorted(steps, key=lambda s: s.start_time)
    for span, step in zip(by_order, result.steps, strict=True):
        a = attrs(span)
        assert span.name == "chat fake-model"
        assert span.kind is SpanKind.CLIENT
        assert a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.provider.name"] == "fake"
        assert a["gen_ai.system"] == "fake"
        assert a["gen_ai.request.model"] == "fake-model"
        assert a["gen_ai.request.temperature"] == 0.3
        assert a["gen_ai.usage.input_tokens"] == step.response.usage.input_tokens
        assert a["gen_ai.usage.output_tokens"] == step.response.usage.output_tokens
        assert a["gen_ai.response.finish_reasons"] == (step.response.finish_reason.value,)
    assert attrs(by_order[0])["gen_ai.usage.cache_read.input_tokens"] == 40
    assert attrs(by_order[1])["gen_ai.usage.cache_creation.input_tokens"] == 20

    for span in tools:
        a = attrs(span)
        assert span.kind is SpanKind.INTERNAL
        assert a["gen_ai.operation.name"] == "execute_tool"
        assert a["gen_ai.tool.type"] == "function"
        assert a["gen_ai.tool.description"] == f"the {a['gen_ai.tool.name']} tool"
        assert "gen_ai.tool.call.arguments" not in a  # content is opt-in
    assert sorted(
        (attrs(s)["gen_ai.tool.name"], attrs(s)["gen_ai.tool.call.id"]) for s in tools
    ) == [
        ("a", "c1"),
        ("b", "c2"),
    ]
    assert all(span.status.status_code is StatusCode.UNSET for span in otel_sdk.spans)


def test_spans_made_inside_a_tool_handler_nest_under_execute_tool(otel_sdk):
    inner = otel_sdk.tracer_provider.get_tracer("user-code")

    def handler(arguments: dict[str, Any]) -> str:
        with inner.start_as_current_span("user.lookup"):
            return "found"

    engine = fake_engine(
        [[tool_call(id="c1", name="lookup", arguments={}), finish("tool_calls")], [text("ok")]],
        [tool("lookup", handler)],
    )

    allm.chat(engine, USER)

    (user_span,) = otel_sdk.named("user.lookup")
    (execute,) = otel_sdk.by_allm_span("tool")
    assert user_span.parent.span_id == execute.context.span_id


def test_a_chat_inside_the_callers_span_is_its_child(otel_sdk):
    outer = otel_sdk.tracer_provider.get_tracer("app")

    with outer.start_as_current_span("request handler") as handler_span:
        allm.chat(two_tool_chat(), USER)

    (chat,) = otel_sdk.by_allm_span("chat")
    assert chat.parent.span_id == handler_span.get_span_context().span_id
    assert trace.get_current_span() is trace.INVALID_SPAN  # every context was detached


def test_streamed_chat_steps_hold_their_tools_and_the_chat_span_covers_preflight(otel_sdk):
    events = list(allm.stream(two_tool_chat(), USER))

    assert events[-1].type == "chat_completed"
    (chat,) = otel_sdk.by_allm_span("chat")
    steps = otel_sdk.by_allm_span("step")
    assert len(steps) == 2
    assert "gen_ai.usage.input_tokens" not in attrs(chat)  # stopped when the stream was returned
    assert all(step.parent is None for step in steps)  # the consumer had no current span
    first = min(steps, key=lambda s: s.start_time)
    assert len(otel_sdk.children(first)) == 2
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_stream_step_gives_a_step_span_with_its_tools(otel_sdk):
    engine = fake_engine(
        [[tool_call(id="c1", name="a", arguments={}), finish("tool_calls")]], [tool("a")]
    )

    result = allm.stream_step(engine, USER).collect()

    assert len(result.tool_results) == 1
    (step,) = otel_sdk.by_allm_span("step")
    (execute,) = otel_sdk.by_allm_span("tool")
    assert execute.parent.span_id == step.context.span_id


# -- generate / stream_generate ------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False])
def test_generate_is_one_chat_span_with_request_and_response_attributes(otel_sdk, streaming):
    engine = fake_engine(
        [[text("hello"), usage(input_tokens=12, output_tokens=4, reasoning_tokens=2), finish()]]
    )

    response = allm.generate(
        engine,
        USER,
        streaming=streaming,
        temperature=0.5,
        max_tokens=64,
        top_p=0.9,
        seed=7,
        provider_options={
            "fake": {"top_k": 40, "frequency_penalty": 0.1, "presence_penalty": 0.2, "n": 1}
        },
        stop=["END"],
        response_format={"type": "json_object"},
    )

    assert response.text == "hello"
    (span,) = otel_sdk.spans
    a = attrs(span)
    assert span.name == "chat fake-model"
    assert span.kind is SpanKind.CLIENT
    assert a["allm.span"] == "generate"
    assert a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.request.max_tokens"] == 64
    assert a["gen_ai.request.top_p"] == 0.9
    assert a["gen_ai.request.top_k"] == 40.0
    assert a["gen_ai.request.seed"] == 7
    assert a["gen_ai.request.frequency_penalty"] == 0.1
    assert a["gen_ai.request.presence_penalty"] == 0.2
    assert a["gen_ai.request.choice.count"] == 1
    assert a["gen_ai.request.stop_sequences"] == ("END",)
    assert a["gen_ai.output.type"] == "json"
    assert a["gen_ai.usage.input_tokens"] == 12
    assert a["gen_ai.usage.output_tokens"] == 4
    assert a["gen_ai.usage.reasoning.output_tokens"] == 2
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["allm.request_id"] == response.request_id


def test_response_id_and_model_come_from_the_response(otel_sdk):
    engine = fake_engine([[("ok", {"text": "hi", "id": "resp-1", "model": "fake-model-0613"})]])

    allm.generate(engine, USER, streaming=False)

    (span,) = otel_sdk.spans
    assert attrs(span)["gen_ai.response.id"] == "resp-1"
    assert attrs(span)["gen_ai.response.model"] == "fake-model-0613"


def test_a_provider_prefix_names_the_provider_and_the_request_model(otel_sdk):
    engine = allm.Engine(adapter_opts={"script": [text("ok")]})

    allm.generate(engine, USER, model="fake:small", stop="X")

    (span,) = otel_sdk.spans
    assert span.name == "chat small"
    assert attrs(span)["gen_ai.request.model"] == "small"
    assert attrs(span)["gen_ai.provider.name"] == "fake"
    assert attrs(span)["gen_ai.request.stop_sequences"] == ("X",)


def test_stream_generate_span_ends_when_the_stream_is_returned(otel_sdk):
    stream = allm.stream_generate(fake_engine([[text("hi")]]), USER, temperature=0.1)

    (span,) = otel_sdk.spans
    assert attrs(span)["allm.span"] == "stream"
    assert attrs(span)["gen_ai.request.temperature"] == 0.1
    assert "gen_ai.response.finish_reasons" not in attrs(span)
    assert stream.collect().text == "hi"
    assert len(otel_sdk.spans) == 1


def test_agenerate_gives_the_same_span(otel_sdk):
    async def main() -> allm.Response:
        return await allm.agenerate(fake_engine([[text("hi"), usage(input_tokens=3)]]), USER)

    anyio.run(main)

    (span,) = otel_sdk.spans
    assert attrs(span)["allm.span"] == "generate"
    assert attrs(span)["gen_ai.usage.input_tokens"] == 3


# -- errors --------------------------------------------------------------------------------------


def test_a_failed_call_folded_as_data_has_error_type(otel_sdk):
    engine = fake_engine([[text("par"), ("error_event", "rate_limited"), finish()]])

    response = allm.generate(engine, USER)

    assert response.finish_reason == "error"
    (span,) = otel_sdk.spans
    assert attrs(span)["error.type"] == "rate_limited"
    assert attrs(span)["gen_ai.response.finish_reasons"] == ("error",)
    assert span.status.status_code is StatusCode.ERROR
    (point,) = otel_sdk.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "rate_limited"


def test_a_preflight_exception_has_error_type_and_the_exception(otel_sdk):
    with pytest.raises(ValidationError):
        allm.generate(fake_engine([[text("x")]]), USER, temperature=9.0)

    (span,) = otel_sdk.spans
    assert attrs(span)["error.type"] == "invalid_request"
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_a_non_allm_exception_is_named_by_its_class(otel_sdk):
    with pytest.raises(KeyError), telemetry.span("generate", {"model": "m"}):
        raise KeyError("boom")
    with pytest.raises(EngineError), telemetry.span("generate", {"model": "m"}):
        raise EngineError("missing_adapter")

    first, second = otel_sdk.spans
    assert attrs(first)["error.type"] == "KeyError"
    assert attrs(second)["error.type"] == "missing_adapter"


def test_a_chat_that_ends_in_error_and_a_failing_tool_have_error_type(otel_sdk):
    def broken(arguments: dict[str, Any]) -> str:
        raise RuntimeError("tool bug")

    engine = fake_engine(
        [
            [tool_call(id="c1", name="bad", arguments={}), finish("tool_calls")],
            [("error_event", "provider_unavailable")],
        ],
        [tool("bad", broken)],
    )

    result = allm.chat(engine, USER)

    assert result.halted_reason == "error"
    (execute,) = otel_sdk.by_allm_span("tool")
    (chat,) = otel_sdk.by_allm_span("chat")
    assert attrs(execute)["error.type"] == "handler_raised"
    assert attrs(chat)["error.type"] == "provider_unavailable"
    assert chat.status.status_code is StatusCode.ERROR


def test_a_tool_failure_outcome_is_an_error(otel_sdk):
    engine = fake_engine(
        [[tool_call(id="c1", name="f", arguments={}), finish("tool_calls")], [text("ok")]],
        [tool("f", lambda arguments: allm.ToolFailure("nope"))],
    )

    allm.chat(engine, USER)

    (execute,) = otel_sdk.by_allm_span("tool")
    assert attrs(execute)["error.type"] == "tool_failure"


def test_a_timed_out_tool_span_ends_with_error_type_timeout(otel_sdk):
    release = threading.Event()

    def slow(arguments: dict[str, Any]) -> str:
        release.wait(5)
        return "late"

    engine = fake_engine(
        [[tool_call(id="c1", name="slow", arguments={}), finish("tool_calls")]],
        [tool("slow", slow)],
    )
    try:
        allm.step(engine, USER, tool_timeout=0.05)
        (execute,) = otel_sdk.by_allm_span("tool")  # ended by the timeout, not by the handler
        assert attrs(execute)["error.type"] == "timeout"
        assert execute.status.status_code is StatusCode.ERROR
    finally:
        release.set()


def test_retries_are_events_on_the_call_span(otel_sdk):
    engine = fake_engine(
        [[("ok", {"text": "hi"})]],
        adapter_opts={"retry_until_call": 2},
        retry={"base_delay_ms": 1, "jitter_ms": 0},
    )

    assert allm.generate(engine, USER, streaming=False).text == "hi"

    (span,) = otel_sdk.spans
    (event,) = [event for event in span.events if event.name == "allm.adapter.retry"]
    assert event.attributes["allm.retry.attempt"] == 1
    assert event.attributes["allm.retry.reason"] == "timeout"


# -- content capture -----------------------------------------------------------------------------


def test_content_is_recorded_only_when_asked(otel_sdk):
    messages = [allm.system("be brief"), allm.user("what is 2+2?")]
    engine = fake_engine([[text("4"), finish()], [text("4"), finish()]])

    allm.generate(engine, messages)
    otel_sdk.instrument(capture_content=True)
    allm.generate(engine, messages)

    plain, captured = otel_sdk.spans
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"):
        assert key not in attrs(plain)
    assert json.loads(attrs(captured)["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "what is 2+2?"}]}
    ]
    assert json.loads(attrs(captured)["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "be brief"}
    ]
    assert json.loads(attrs(captured)["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "4"}], "finish_reason": "stop"}
    ]


def test_captured_tool_content_and_history_parts(otel_sdk):
    otel_sdk.instrument(capture_content=True)
    png = allm.ImagePart.from_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png")
    url = allm.ImagePart.from_url("https://example.com/cat.png")
    engine = fake_engine(
        [
            [
                ("reasoning", "thinking"),
                tool_call(id="c1", name="a", arguments={"q": 1}),
                finish("tool_calls"),
            ],
            [text("ok")],
        ],
        [tool("a", lambda arguments: {"answer": 42})],
    )

    allm.chat(engine, [allm.user([allm.TextPart("look"), png, url])])

    execute = otel_sdk.by_allm_span("tool")[0]
    assert json.loads(attrs(execute)["gen_ai.tool.call.arguments"]) == {"q": 1}
    assert json.loads(attrs(execute)["gen_ai.tool.call.result"]) == {"answer": 42}
    first, second = sorted(otel_sdk.by_allm_span("step"), key=lambda s: s.start_time)
    output = json.loads(attrs(first)["gen_ai.output.messages"])
    assert output[0]["parts"][0] == {"type": "reasoning", "content": "thinking"}
    assert output[0]["parts"][1]["type"] == "tool_call"
    history = json.loads(attrs(second)["gen_ai.input.messages"])
    assert history[0]["parts"] == [
        {"type": "text", "content": "look"},
        {"type": "blob", "modality": "image", "mime_type": "image/png"},
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
    ]
    assert history[1]["parts"][0]["type"] == "tool_call"
    assert history[2]["parts"] == [
        {"type": "tool_call_response", "id": "c1", "response": '{"answer":42}'}
    ]


# -- metrics -------------------------------------------------------------------------------------


def test_client_metrics_record_duration_and_tokens_per_model_call(otel_sdk):
    allm.chat(two_tool_chat(), USER)

    (duration,) = otel_sdk.points("gen_ai.client.operation.duration")
    assert duration.count == 2  # one per step, not the chat or the tools
    assert duration.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "fake",
        "gen_ai.request.model": "fake-model",
    }
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    tokens = {
        p.attributes["gen_ai.token.type"]: p for p in otel_sdk.points("gen_ai.client.token.usage")
    }
    assert (tokens["input"].count, tokens["input"].sum) == (2, 230)
    assert (tokens["output"].count, tokens["output"].sum) == (2, 10)
    assert list(tokens["input"].explicit_bounds)[:3] == [1, 4, 16]


def test_gemini_maps_to_its_semantic_convention_provider_name(otel_sdk):
    class GeminiLike:
        name = "gemini"

    with telemetry.span(
        "generate", {"engine": allm.Engine(adapter="fake"), "model": ("gemini", "m")}
    ):
        pass
    span = telemetry.span(
        "generate", {"engine": type("E", (), {"adapter": GeminiLike()})(), "model": "m"}
    )
    with span:
        pass

    first, second = otel_sdk.spans
    assert attrs(first)["gen_ai.provider.name"] == "fake"  # the engine's adapter decides
    assert attrs(second)["gen_ai.provider.name"] == "gcp.gemini"
    assert attrs(second)["gen_ai.system"] == "gemini"


# -- on and off ----------------------------------------------------------------------------------


def test_uninstrument_leaves_no_spans_and_no_tracer(otel_sdk):
    otel.uninstrument()

    allm.chat(two_tool_chat(), USER)
    allm.generate(fake_engine([[text("x")]]), USER)

    assert otel_sdk.spans == []
    assert otel_sdk.points("gen_ai.client.operation.duration") == []
    assert telemetry.tracers() == 0
    assert telemetry.handlers() == 0
    assert otel.is_instrumented() is False


def test_instrument_twice_replaces_the_bridge(otel_sdk):
    otel_sdk.instrument()

    allm.generate(fake_engine([[text("x")]]), USER)

    assert telemetry.tracers() == 1
    assert len(otel_sdk.spans) == 1
    assert otel.is_instrumented() is True


def test_a_span_started_before_uninstrument_still_ends(otel_sdk):
    with telemetry.span("generate", {"model": "m"}):
        otel.uninstrument()

    (span,) = otel_sdk.spans
    assert span.end_time is not None
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_import_allm_does_not_import_opentelemetry():
    import subprocess
    import sys

    code = "import sys, allm; allm.generate; print('opentelemetry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_async_tool_handlers_nest_under_their_step(otel_sdk):
    async def lookup(arguments: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return "found"

    engine = fake_engine(
        [
            [
                tool_call(id="c1", name="a", arguments={}),
                tool_call(id="c2", name="b", arguments={}),
                finish("tool_calls"),
            ],
            [text("ok")],
        ],
        [tool("a", lookup), tool("b", lookup)],
    )

    async def main() -> allm.ChatResult:
        return await allm.achat(engine, USER)

    anyio.run(main)

    first = min(otel_sdk.by_allm_span("step"), key=lambda s: s.start_time)
    assert sorted(s.name for s in otel_sdk.children(first)) == ["execute_tool a", "execute_tool b"]


def test_both_passes_of_a_structured_finalize_chat_are_in_one_chat_span(otel_sdk):
    engine = fake_engine(
        [
            [tool_call(id="c1", name="a", arguments={}), finish("tool_calls")],
            [text("plain"), finish()],
            [text('{"a": "x"}'), finish()],
        ],
        [tool("a")],
    )

    result = allm.chat(
        engine,
        USER,
        structured_finalize=True,
        response_format=allm.json_schema("a", {"type": "object"}),
    )

    assert len(result.steps) == 3
    (chat,) = otel_sdk.by_allm_span("chat")
    assert len(otel_sdk.children(chat)) == 3
    last = max(otel_sdk.children(chat), key=lambda s: s.start_time)
    assert attrs(last)["gen_ai.output.type"] == "json"


def test_a_typed_output_is_a_json_output_type(otel_sdk):
    engine = fake_engine([[text('{"n": 1}'), finish()]])
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    response = allm.generate(engine, USER, response_format=schema)
    assert response.parsed == {"n": 1}
    (span,) = otel_sdk.spans
    assert attrs(span)["gen_ai.output.type"] == "json"
