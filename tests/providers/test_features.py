"""FEATURES.md items 107-123, one test (or a few) per item, across the HTTP adapters.

Where API.md's finish-reason normalization differs from the design (a content filter or a
refusal is ``content_filter``, not an error), API.md is what is checked.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm.adapters import Call
from allm.events import MessageCompleted, ToolCallCompleted, ToolCallDelta, ToolCallStarted
from allm.providers.anthropic import Anthropic
from allm.providers.anthropic import finish_reason_for as anthropic_finish
from allm.providers.gemini import Gemini
from allm.providers.gemini import finish_reason_for as gemini_finish
from allm.providers.openai import OpenAI, OpenAICompatible
from allm.testing.loopback import Answer, LoopbackServer

from .conformance import CountingBody
from .wire import load

WEATHER = allm.tool(
    name="get_weather",
    description="Weather in a city.",
    schema={
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
FORMAT = allm.json_schema("answer", {"type": "object", "properties": {"a": {"type": "string"}}})


def call(**adapter_opts: Any) -> Call:
    return Call(request_id="req-1", engine=allm.Engine(), adapter_opts=adapter_opts, api_key="k")


def body(adapter: Any, request: allm.Request, *, stream: bool = True, **opts: Any) -> Any:
    built = adapter.build_request(request, call(**opts), stream=stream)
    return built, json.loads(built.body)


def req(*messages: allm.Message, **fields: Any) -> allm.Request:
    return allm.request(list(messages) or [allm.user("hi")], **fields)


def serve(directory: str, name: str, adapter: Any, model: str, **adapter_opts: Any) -> allm.Engine:
    case = load(directory, name)
    return allm.Engine(
        adapter=adapter,
        model=model,
        retry=False,
        adapter_opts={
            "http_client": case.client(),
            "async_http_client": case.async_client(),
            **adapter_opts,
        },
    )


@pytest.mark.parametrize(
    ("model", "endpoint", "path"),
    [
        ("gpt-5-mini", None, "/responses"),
        ("o3", None, "/responses"),
        ("o4-mini", None, "/responses"),
        ("gpt-4o-mini", None, "/chat/completions"),
        ("gpt-4.1", None, "/chat/completions"),
        ("gpt-4o-mini", "responses", "/responses"),
        ("gpt-5", "chat_completions", "/chat/completions"),
    ],
)
def test_f107_openai_endpoint_from_the_model_name_or_the_option(
    model: str, endpoint: str | None, path: str
) -> None:
    opts = {"endpoint": endpoint} if endpoint else {}
    built, _ = body(OpenAI(), req(model=model), **opts)
    assert built.url == "https://api.openai.com/v1" + path


def test_f107_an_unknown_endpoint_is_refused_before_any_io() -> None:
    with pytest.raises(allm.errors.ConfigurationError):
        body(OpenAI(), req(model="gpt-4o"), endpoint="completions-v2")


@pytest.mark.parametrize(
    ("adapter", "model", "opts", "field"),
    [
        (OpenAI(), "gpt-4o", {}, "max_completion_tokens"),
        (OpenAI(), "gpt-4.1-mini", {}, "max_completion_tokens"),
        (OpenAI(), "gpt-5", {}, "max_output_tokens"),
        (OpenAI(), "gpt-4o", {"endpoint": "responses"}, "max_output_tokens"),
        (OpenAICompatible(base_url="http://127.0.0.1:9/v1"), "llama3:8b", {}, "max_tokens"),
    ],
)
def test_f108_max_tokens_is_renamed_per_endpoint(
    adapter: Any, model: str, opts: dict[str, Any], field: str
) -> None:
    _, sent = body(adapter, req(model=model, max_tokens=77), **opts)
    assert sent[field] == 77
    assert {"max_tokens", "max_completion_tokens", "max_output_tokens"} - {field} & set(
        sent
    ) == set()


def test_f109_chat_tool_deltas_are_keyed_by_id_and_completed_before_the_message() -> None:
    engine = serve("openai-chat", "tool_call_stream_fragmented", OpenAI(), "gpt-4o-mini")
    events = list(allm.stream_generate(engine, [allm.user("weather")], api_key="k"))
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    completed = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert len(started) == len(completed) == 1 and len(deltas) == 14
    assert {d.id for d in deltas} == {started[0].id} == {completed[0].id}
    assert started[0].id.startswith("call_")
    assert json.loads("".join(d.arguments_delta for d in deltas)) == completed[0].arguments
    assert events.index(completed[0]) < next(
        i for i, e in enumerate(events) if isinstance(e, MessageCompleted)
    )


def test_f110_a_content_filter_stop_is_content_filter_with_the_text_kept() -> None:
    case = load("openai-chat", "content_filter_stream")
    engine = serve("openai-chat", "content_filter_stream", OpenAI(), "gpt-4o-mini")
    response = allm.generate(engine, [allm.user("x")], api_key="k")
    assert response.finish_reason == "content_filter"
    assert response.text == case.expect["output_text"] and response.error is None


def test_f111_responses_function_calls_promote_the_finish_and_keep_reasoning() -> None:
    case = load("openai-responses", "reasoning_tool_call_stream")
    engine = serve("openai-responses", "reasoning_tool_call_stream", OpenAI(), "gpt-5")
    response = allm.generate(engine, [allm.user("x")], api_key="k")
    assert response.finish_reason == "tool_calls" and response.raw_finish_reason == "completed"
    assert [c.name for c in response.tool_calls] == [c["name"] for c in case.expect["tool_calls"]]
    assert response.reasoning == case.expect["reasoning_text"] and response.reasoning


def test_f112_openai_json_schema_request_shapes() -> None:
    _, chat = body(OpenAI(), req(model="gpt-4o", response_format=FORMAT))
    _, responses = body(OpenAI(), req(model="gpt-5", response_format=FORMAT))
    schema = FORMAT["schema"]
    assert chat["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert responses["text"]["format"] == {
        "type": "json_schema",
        "name": "answer",
        "schema": schema,
        "strict": True,
    }


@pytest.mark.parametrize(
    ("directory", "adapter", "model", "case", "reason", "status"),
    [
        (
            "openai-chat",
            OpenAI(),
            "gpt-4o-mini",
            "error_401_invalid_api_key",
            "authentication_failed",
            401,
        ),
        ("openai-chat", OpenAI(), "gpt-4o-mini", "error_429_rate_limit", "rate_limited", 429),
        (
            "openai-chat",
            OpenAI(),
            "gpt-4o-mini",
            "error_500_server_error",
            "provider_unavailable",
            500,
        ),
        (
            "anthropic",
            Anthropic(),
            "claude-haiku-4-5",
            "error_401_authentication",
            "authentication_failed",
            401,
        ),
        ("anthropic", Anthropic(), "claude-haiku-4-5", "error_429_rate_limit", "rate_limited", 429),
        (
            "anthropic",
            Anthropic(),
            "claude-haiku-4-5",
            "error_500_api_error",
            "provider_unavailable",
            500,
        ),
        (
            "gemini",
            Gemini(),
            "gemini-2.5-flash",
            "error_403_permission_denied",
            "authentication_failed",
            403,
        ),
        (
            "gemini",
            Gemini(),
            "gemini-2.5-flash",
            "error_429_resource_exhausted",
            "rate_limited",
            429,
        ),
        (
            "gemini",
            Gemini(),
            "gemini-2.5-flash",
            "error_503_unavailable",
            "provider_unavailable",
            503,
        ),
    ],
)
def test_f114_http_statuses_map_to_the_closed_reasons(
    directory: str, adapter: Any, model: str, case: str, reason: str, status: int
) -> None:
    expect = load(directory, case).expect
    response = allm.generate(serve(directory, case, adapter, model), [allm.user("x")], api_key="k")
    error = response.error
    assert (response.finish_reason, error.reason, error.status) == ("error", reason, status)
    if reason == "rate_limited":
        assert error.retry_after_ms == round(expect["error"]["retry_after_seconds"] * 1000)


def test_f115_anthropic_system_max_tokens_and_tool_results() -> None:
    assistant = allm.Message(
        "assistant", "", tool_calls=(allm.ToolCall("toolu_1", "get_weather", {"city": "Rome"}),)
    )
    request = req(
        allm.system("Be brief."),
        allm.system("Use metric."),
        allm.user("Weather?"),
        assistant,
        allm.tool_result("toolu_1", {"temp": 21}),
        model="claude-haiku-4-5",
        tools=[WEATHER],
    )
    _, sent = body(Anthropic(), request)
    assert "Be brief." in json.dumps(sent["system"]) and "Use metric." in json.dumps(sent["system"])
    assert all(m["role"] != "system" for m in sent["messages"])
    assert sent["max_tokens"] == 1024
    last = sent["messages"][-1]
    assert last["role"] == "user"
    assert last["content"][0]["type"] == "tool_result"
    assert last["content"][0]["tool_use_id"] == "toolu_1"


def test_f116_anthropic_tool_choice_and_stop_reasons() -> None:
    _, sent = body(
        Anthropic(), req(model="claude-haiku-4-5", tools=[WEATHER], tool_choice="required")
    )
    assert sent["tool_choice"] == {"type": "any"}
    table = {
        "end_turn": "stop",
        "max_tokens": "length",
        "tool_use": "tool_calls",
        "stop_sequence": "stop",
        "refusal": "content_filter",
        "pause_turn": "other",
    }
    for raw, normalized in table.items():
        assert anthropic_finish(raw, tool_calls=raw == "tool_use") == normalized


def test_f117_anthropic_structured_output_is_a_forced_tool_lifted_to_text() -> None:
    _, sent = body(Anthropic(), req(model="claude-haiku-4-5", response_format=FORMAT))
    assert sent["tool_choice"] == {"type": "tool", "name": "respond_with_json_answer"}
    assert [t["name"] for t in sent["tools"]] == ["respond_with_json_answer"]
    for name in ("structured_output_stream", "structured_output_nonstream"):
        case = load("anthropic", name)
        engine = serve("anthropic", name, Anthropic(), "claude-haiku-4-5")
        city = allm.json_schema("city_info", {"type": "object"})
        response = allm.generate(
            engine,
            [allm.user("x")],
            api_key="k",
            streaming=case.expect["stream"],
            response_format=city,
        )
        assert response.finish_reason == "stop" and response.tool_calls == ()
        assert json.loads(response.text or "") == json.loads(case.expect["output_text"])


def test_f118_anthropic_retries_529_overloaded() -> None:
    overloaded, ok = load("anthropic", "error_529_overloaded"), load("anthropic", "text_stream")
    answers = [overloaded, ok]
    closes = {"closed": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        case = answers.pop(0)
        return httpx.Response(
            case.status, headers=case.headers, stream=CountingBody([case.body], closes)
        )

    engine = allm.Engine(
        adapter=Anthropic(),
        model="claude-haiku-4-5",
        retry={"base_delay_ms": 0, "jitter_ms": 0, "respect_retry_after": False},
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )
    response = allm.generate(engine, [allm.user("x")], api_key="k")
    assert response.finish_reason == "stop" and response.text == ok.expect["output_text"]
    assert answers == []


def test_f119_gemini_system_roles_generation_config_and_clean_schemas() -> None:
    request = req(
        allm.system("Be brief."),
        allm.user("hi"),
        allm.assistant("hello"),
        allm.user("weather?"),
        model="gemini-2.5-flash",
        tools=[WEATHER],
        temperature=0.3,
        max_tokens=50,
    )
    built, sent = body(Gemini(), request)
    assert built.url.endswith("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["generationConfig"]["temperature"] == 0.3
    assert sent["generationConfig"]["maxOutputTokens"] == 50
    declared = json.dumps(sent["tools"])
    assert "additionalProperties" not in declared and "$schema" not in declared
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


def test_f120_gemini_function_responses_recover_the_name_and_echo_signatures() -> None:
    call_ = allm.ToolCall(
        "fc_1", "get_weather", {"city": "Rome"}, metadata={"thought_signature": "SIG=="}
    )
    request = req(
        allm.user("weather?"),
        allm.Message("assistant", "", tool_calls=(call_,)),
        allm.tool_result("fc_1", {"temp": 21}),
        model="gemini-2.5-flash",
        tools=[WEATHER],
    )
    _, sent = body(Gemini(), request)
    model_turn, answer_turn = sent["contents"][1], sent["contents"][2]
    part = next(p for p in model_turn["parts"] if "functionCall" in p)
    assert part["functionCall"]["name"] == "get_weather" and part["thoughtSignature"] == "SIG=="
    response_part = answer_turn["parts"][0]["functionResponse"]
    assert response_part["name"] == "get_weather"
    assert response_part["response"]["temp"] == 21 or response_part["response"] == {
        "output": '{"temp":21}'
    }


def test_f121_gemini_url_images_are_refused_and_safety_is_content_filter() -> None:
    request = req(
        allm.user([allm.TextPart("what is this"), allm.ImagePart.from_url("https://x.test/a.png")]),
        model="gemini-2.5-flash",
    )
    engine = serve("gemini", "text_stream", Gemini(), "gemini-2.5-flash")
    with pytest.raises(allm.AdapterError) as info:
        allm.stream_generate(engine, request, api_key="k")
    assert info.value.reason == "unsupported_feature"
    assert gemini_finish("SAFETY", False) == "content_filter"
    assert gemini_finish("RECITATION", False) == "content_filter"


@pytest.mark.parametrize(
    ("adapter", "model"),
    [
        (OpenAI(), "gpt-4o"),
        (OpenAI(), "gpt-5"),
        (Anthropic(), "claude-haiku-4-5"),
        (Gemini(), "gemini-2.5-flash"),
    ],
)
def test_f122_an_image_in_a_system_message_fails_before_any_http_call(
    adapter: Any, model: str
) -> None:
    sent: list[Any] = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    )
    engine = allm.Engine(adapter=adapter, model=model, adapter_opts={"http_client": client})
    system = allm.Message("system", (allm.ImagePart.from_bytes(b"\x89PNG", "image/png"),))
    with pytest.raises(allm.ValidationError) as info:
        allm.generate(engine, [system, allm.user("hi")], api_key="k")
    assert ((("messages", 0, "content"), "image_in_system_message")) in info.value.errors
    assert sent == []


def test_f123_silence_longer_than_stream_timeout_is_a_timeout_error() -> None:
    case = load("openai-chat", "text_stream")
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/v1/chat/completions",
            Answer(headers=case.headers, body=case.body, chunks=[40], delay=0.6),
        )
        engine = allm.Engine(
            adapter=OpenAI(base_url=server.url + "/v1"), model="gpt-4o-mini", retry=False
        )
        response = allm.generate(engine, [allm.user("x")], api_key="k", stream_timeout=0.2)
    assert response.finish_reason == "error"
    assert response.error.reason == "timeout" and isinstance(response.error, TimeoutError)
