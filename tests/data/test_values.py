"""Tools, requests, responses, results and sessions: FEATURES 4-9 and the other defaults."""

from __future__ import annotations

import json

import pytest

import allm
from allm.data import (
    ChatResult,
    FinishReason,
    HaltReason,
    ImagePart,
    ImageRequest,
    ImageResponse,
    ImageUsage,
    Message,
    ModelRef,
    Request,
    Response,
    Session,
    SessionStatus,
    StepResult,
    Thread,
    Tool,
    ToolCall,
    Usage,
)

WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}


def get_weather(arguments):
    return {"city": arguments["city"], "temp": 72}


# ----------------------------------------------------------------------------------- tools


def test_f004_tool_builds_a_tool_with_defaults():
    tool = allm.tool(name="get_weather", description="Weather by city", schema=WEATHER_SCHEMA)

    assert tool == Tool("get_weather", "Weather by city", WEATHER_SCHEMA)
    assert tool.manual is False
    assert tool.handler is None
    assert tool.metadata == {}
    assert tool.handler_arity == 0


def test_f004_tool_keeps_handler_manual_and_metadata():
    tool = allm.tool(
        name="get_weather",
        description="Weather by city",
        schema=WEATHER_SCHEMA,
        handler=get_weather,
        manual=True,
        metadata={"owner": "ops"},
    )

    assert tool.handler is get_weather
    assert tool.handler_arity == 1
    assert tool.manual is True
    assert tool.metadata == {"owner": "ops"}


@pytest.mark.parametrize("missing", ["name", "description", "schema"])
def test_f004_tool_without_name_description_or_schema_raises(missing):
    fields = {"name": "t", "description": "d", "schema": {}}
    del fields[missing]

    with pytest.raises(TypeError, match=missing):
        allm.tool(**fields)


def test_f004_tool_rejects_a_non_bool_manual_and_a_non_callable_handler():
    with pytest.raises(TypeError, match="manual"):
        Tool("t", "d", {}, manual="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler"):
        Tool("t", "d", {}, handler="not callable")  # type: ignore[arg-type]


def test_tool_schema_keys_are_normalised_to_strings():
    tool = Tool("t", "d", {"properties": {1: {"enum": (1, 2)}}})

    assert tool.schema == {"properties": {"1": {"enum": [1, 2]}}}


def test_tool_handler_arity_counts_a_context_argument():
    def two(arguments, ctx):
        return arguments

    assert Tool("t", "d", {}, handler=two).handler_arity == 2


def test_tool_call_defaults():
    call = ToolCall("call_1", "get_weather")

    assert call.arguments == {}
    assert call.raw_arguments is None
    assert call.metadata == {}


# ---------------------------------------------------------------------------------- request


def test_f005_json_schema_builds_a_strict_response_format():
    assert allm.json_schema("weather", WEATHER_SCHEMA) == {
        "type": "json_schema",
        "name": "weather",
        "schema": WEATHER_SCHEMA,
        "strict": True,
    }


def test_f005_json_schema_honours_strict_false():
    assert allm.json_schema("weather", WEATHER_SCHEMA, strict=False)["strict"] is False


def test_f006_request_has_the_design_defaults():
    request = allm.request([allm.user("hi")])

    assert request == Request(messages=(allm.user("hi"),))
    assert request.messages == (allm.user("hi"),)
    assert request.model is None
    assert request.tools == ()
    assert request.tool_choice is None
    assert request.temperature is None
    assert request.max_tokens is None
    assert request.stream is False
    assert request.response_format is None
    assert request.structured_finalize is False
    assert request.options == {}
    assert request.metadata == {}


def test_f006_request_takes_fields_and_a_thread():
    tool = allm.tool(name="t", description="d", schema={})
    thread = Thread((allm.system("s"), allm.user("u")))

    request = allm.request(thread, model="fake:x", tools=[tool], temperature=0.5, max_tokens=9)

    assert request.messages == thread.messages
    assert request.tools == (tool,)
    assert (request.model, request.temperature, request.max_tokens) == ("fake:x", 0.5, 9)


def test_f006_request_does_not_validate():
    tool = allm.tool(name="auto", description="d", schema={})

    request = allm.request([], tools=[tool, tool], temperature=9.0, max_tokens=-1)

    assert request.messages == ()
    assert request.temperature == 9.0
    with pytest.raises(allm.ValidationError):
        allm.validate.request(request)


# --------------------------------------------------------------------------------- response


def test_f007_response_defaults():
    response = Response()

    assert response.tool_calls == ()
    assert response.usage == Usage()
    assert response.metadata == {}
    for name in ("id", "request_id", "model", "message", "output_text", "finish_reason"):
        assert getattr(response, name) is None
    assert (response.raw_finish_reason, response.raw, response.reasoning) == (None, None, None)
    assert response.error is None


def test_f007_usage_is_never_shared_between_responses():
    assert Response().usage is not None
    assert Response().usage.extra is not Response().usage.extra


def test_f007_text_prefers_output_text():
    response = Response(message=allm.assistant("from message"), output_text="flat")

    assert response.text == "flat"


def test_f007_text_falls_back_to_string_message_content():
    assert Response(message=allm.assistant("from message")).text == "from message"
    assert Response(output_text="").text == ""


def test_f007_text_is_none_without_output_text_or_string_content():
    parts = allm.assistant([ImagePart.from_url("https://x/y.png")])

    assert Response().text is None
    assert Response(message=parts).text is None


def test_f008_finish_reason_is_exactly_the_six_values():
    assert {reason.value for reason in FinishReason} == {
        "stop",
        "length",
        "tool_calls",
        "content_filter",
        "error",
        "other",
    }


def test_f008_finish_reason_compares_with_plain_strings():
    assert FinishReason.STOP == "stop"
    assert str(FinishReason.TOOL_CALLS) == "tool_calls"
    assert Response(finish_reason="length").finish_reason is FinishReason.LENGTH
    with pytest.raises(ValueError):
        FinishReason("exploded")


def test_usage_defaults_are_unreported_not_zero():
    usage = Usage()

    for name in (
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "reasoning_tokens",
        "total_tokens",
        "input_cost",
        "output_cost",
        "total_cost",
    ):
        assert getattr(usage, name) is None
    assert (usage.tool_usage, usage.extra) == ({}, {})


def test_response_error_reads_metadata_error():
    error = allm.AdapterError("provider_unavailable", status=503)

    assert Response(finish_reason="error", metadata={"error": error}).error == error


# ---------------------------------------------------------------------------------- results


def test_f009_session_defaults():
    session = Session()

    assert session.status is SessionStatus.IDLE
    assert session.status == "idle"
    assert session.thread == Thread()
    assert session.id is None
    assert session.pending_tool_calls == ()
    assert session.pending_question is None
    assert session.pending_tool_call_id is None
    assert session.context == {}
    assert session.metadata == {}


def test_f009_session_status_is_exactly_the_five_values():
    assert {status.value for status in SessionStatus} == {
        "idle",
        "awaiting_user",
        "awaiting_tools",
        "completed",
        "error",
    }
    assert Session(status="awaiting_tools").status is SessionStatus.AWAITING_TOOLS


def test_step_result_and_chat_result_defaults():
    thread = Thread((allm.user("hi"),))
    step = StepResult(thread, Response(output_text="hello"))
    chat = ChatResult(thread)

    assert (step.tool_results, step.done, step.metadata) == ((), False, {})
    assert chat.final_response is None
    assert chat.steps == ()
    assert chat.halted_reason == "completed"
    assert (chat.pending_question, chat.pending_tool_call_id, chat.metadata) == (None, None, {})
    assert chat.text is None
    assert ChatResult(thread, step.response, [step]).text == "hello"


def test_chat_result_stores_halt_reasons_as_plain_strings():
    chat = ChatResult(Thread(), halted_reason=HaltReason.MAX_TURNS)

    assert type(chat.halted_reason) is str
    assert chat.halted_reason == "max_turns"


def test_lists_given_for_sequence_fields_are_stored_as_tuples():
    call = ToolCall("c", "t")
    message = Message("assistant", [allm.TextPart("x")], tool_calls=[call])

    assert message.content == (allm.TextPart("x"),)
    assert message.tool_calls == (call,)
    assert Response(tool_calls=[call]).tool_calls == (call,)
    assert Session(pending_tool_calls=[call]).pending_tool_calls == (call,)
    assert StepResult(Thread(), Response(), [message]).tool_results == (message,)


def test_model_ref_defaults_and_string_form():
    ref = ModelRef("openai", "gpt-4o")

    assert (ref.capabilities, ref.limits, ref.pricing, ref.metadata) == ({}, {}, None, {})
    assert str(ref) == "openai:gpt-4o"


def test_image_types_defaults():
    request = ImageRequest(prompt="a cat")
    response = ImageResponse()

    assert request.operation == "generate"
    assert (request.n, request.response_format) == (1, "binary")
    assert (request.input_images, request.mask, request.size) == ((), None, None)
    assert (request.options, request.metadata) == ({}, {})
    assert response.images == ()
    assert response.usage == ImageUsage()
    assert ImageUsage().images == 0
    assert ImageUsage().total_cost is None


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (Response(), "output_text"),
        (Session(), "status"),
        (Thread(), "messages"),
        (Usage(), "input_tokens"),
        (Tool("t", "d", {}), "name"),
        (ToolCall("c", "t"), "arguments"),
    ],
)
def test_values_are_frozen(value, field):
    with pytest.raises(AttributeError):
        setattr(value, field, None)


def test_tool_result_json_text_is_compact_json():
    content = allm.tool_result("c", {"a": [1, 2]}).content

    assert content == json.dumps({"a": [1, 2]}, separators=(",", ":"))
