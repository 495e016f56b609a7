"""What the OpenAI adapters send: endpoint choice, field renames, reasoning controls, images,
tools, formats, options and params, keys and headers; and what they refuse before any I/O."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.providers.openai.support import Server

import allm
from allm.data.messages import ImagePart, Message, TextPart
from allm.data.tools import Tool
from allm.errors import ConfigurationError, EngineError, ValidationError
from allm.providers.openai import OpenAI, OpenAICompatible

CHAT_SSE = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)
RESPONSES_SSE = (
    b"event: response.completed\n"
    b'data: {"type":"response.completed","response":{"id":"resp_1","object":"response",'
    b'"status":"completed","model":"m","output":[{"id":"msg_1","type":"message","role":"assistant",'
    b'"status":"completed","content":[{"type":"output_text","annotations":[],"text":"ok"}]}],'
    b'"usage":null},"sequence_number":0}\n\n'
)
SSE = {"content-type": "text/event-stream; charset=utf-8"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEATHER = Tool(
    "get_weather",
    "Weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def server_for(endpoint: str) -> Server:
    return Server((200, SSE, [CHAT_SSE if endpoint == "chat_completions" else RESPONSES_SSE]))


def send(
    request: Any,
    *,
    model: str = "gpt-4o-mini",
    endpoint: str | None = None,
    adapter: Any = None,
    server: Server | None = None,
    **opts: Any,
) -> tuple[Server, dict[str, Any]]:
    """Stream one call against a mock server; return it and the JSON body the adapter sent."""
    adapter = adapter or OpenAI()
    chosen = endpoint or (
        "responses" if model.startswith(("gpt-5", "o3", "o4")) else "chat_completions"
    )
    server = server or server_for(chosen)
    adapter_opts = server.opts()
    if endpoint is not None:
        adapter_opts["endpoint"] = endpoint
    engine = allm.Engine(adapter=adapter, model=model, adapter_opts=adapter_opts, retry=False)
    opts.setdefault("api_key", "test-key")
    response = allm.stream_generate(engine, request, **opts).collect()
    assert response.finish_reason != "error", response.metadata.get("error")
    return server, server.body()


# -- endpoint selection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gpt-4o-mini", "/v1/chat/completions"),
        ("gpt-4.1", "/v1/chat/completions"),
        ("gpt-3.5-turbo", "/v1/chat/completions"),
        ("gpt-5", "/v1/responses"),
        ("gpt-5-mini", "/v1/responses"),
        ("o3-mini", "/v1/responses"),
        ("o4-mini", "/v1/responses"),
        ("ft:custom-model", "/v1/chat/completions"),
    ],
)
def test_endpoint_is_chosen_from_the_model_name(model: str, path: str) -> None:
    server, _ = send([allm.user("hi")], model=model)
    assert server.requests[0].url.path == path
    assert str(server.requests[0].url).startswith("https://api.openai.com/v1/")


def test_the_endpoint_option_wins_over_the_model_name() -> None:
    server, body = send([allm.user("hi")], model="gpt-5", endpoint="chat_completions")
    assert server.requests[0].url.path == "/v1/chat/completions"
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    server, body = send([allm.user("hi")], model="gpt-4.1", endpoint="responses")
    assert server.requests[0].url.path == "/v1/responses"
    assert body["input"] == [{"role": "user", "content": "hi"}]


def test_the_endpoint_can_be_a_constructor_setting_or_a_call_keyword() -> None:
    server, _ = send(
        [allm.user("hi")],
        model="gpt-4.1",
        adapter=OpenAI(endpoint="responses"),
        server=server_for("responses"),
    )
    assert server.requests[0].url.path == "/v1/responses"
    server = server_for("responses")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4.1", adapter_opts=server.opts(), retry=False)
    allm.generate(engine, [allm.user("hi")], endpoint="responses", api_key="k")
    assert server.requests[0].url.path == "/v1/responses"


@pytest.mark.parametrize("streaming", [True, False])
def test_an_unknown_endpoint_is_a_configuration_error_before_any_io(streaming: bool) -> None:
    server = server_for("chat_completions")
    engine = allm.Engine(
        adapter=OpenAI(), model="gpt-4o", adapter_opts={**server.opts(), "endpoint": "completions"}
    )
    with pytest.raises(ConfigurationError) as info:
        if streaming:
            allm.stream_generate(engine, [allm.user("hi")], api_key="k")
        else:
            allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")
    assert "completions" in str(info.value.problems)
    assert server.requests == []


def test_base_url_and_extra_headers_are_honoured() -> None:
    server = server_for("chat_completions")
    adapter = OpenAI(
        base_url="https://gateway.example/openai/v1/", organization="org-1", project="p-2"
    )
    engine = allm.Engine(
        adapter=adapter,
        model="gpt-4o",
        adapter_opts={**server.opts(), "headers": {"x-trace": "t1"}},
        retry=False,
    )
    allm.generate(engine, [allm.user("hi")], api_key="sk-secret")
    sent = server.requests[0]
    assert str(sent.url) == "https://gateway.example/openai/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-secret"
    assert sent.headers["openai-organization"] == "org-1"
    assert sent.headers["openai-project"] == "p-2"
    assert sent.headers["x-trace"] == "t1"


# -- max tokens, stream options, options and params ----------------------------------------------


@pytest.mark.parametrize(
    ("model", "endpoint", "field"),
    [
        ("gpt-4o-mini", None, "max_completion_tokens"),
        ("gpt-4.1-nano", None, "max_completion_tokens"),
        ("gpt-5-mini", "chat_completions", "max_completion_tokens"),
        ("o3-mini", "chat_completions", "max_completion_tokens"),
        ("gpt-4-turbo", None, "max_tokens"),
        ("gpt-3.5-turbo", None, "max_tokens"),
        ("gpt-4.1", "responses", "max_output_tokens"),
        ("gpt-5", None, "max_output_tokens"),
    ],
)
def test_max_tokens_is_renamed_per_endpoint_and_model(
    model: str, endpoint: str | None, field: str
) -> None:
    _, body = send([allm.user("hi")], model=model, endpoint=endpoint, max_tokens=77)
    assert body[field] == 77
    others = {"max_tokens", "max_completion_tokens", "max_output_tokens"} - {field}
    assert not others & set(body)


def test_compatible_servers_get_max_tokens() -> None:
    adapter = OpenAICompatible(base_url="http://localhost:11434/v1")
    _, body = send([allm.user("hi")], model="gpt-4o-mini", adapter=adapter, max_tokens=50)
    assert body["max_tokens"] == 50 and "max_completion_tokens" not in body


def test_streaming_chat_asks_for_usage_unless_the_caller_set_stream_options() -> None:
    _, body = send([allm.user("hi")])
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    request = allm.request(
        [allm.user("hi")], options={"stream_options": {"include_obfuscation": False}}
    )
    _, body = send(request)
    assert body["stream_options"] == {"include_obfuscation": False}
    _, body = send(
        [allm.user("hi")],
        provider_options={"openai": {"stream_options": {"include_usage": False}}},
    )
    assert body["stream_options"] == {"include_usage": False}
    request = allm.request([allm.user("hi")], options={"stream_options": None})
    _, body = send(request)
    assert "stream_options" not in body  # an explicit None removes the field


def test_non_streaming_bodies_have_no_stream_fields() -> None:
    server = Server(
        (
            200,
            {"content-type": "application/json"},
            [
                b'{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,'
                b'"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}'
            ],
        )
    )
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k")
    assert response.text == "ok"
    body = server.body()
    assert "stream" not in body and "stream_options" not in body


def test_request_options_and_call_params_are_merged_into_the_body() -> None:
    request = allm.request(
        [allm.user("hi")], options={"parallel_tool_calls": False, "seed": 7, "user": "u1"}
    )
    _, body = send(request, top_p=0.5, seed=9, temperature=0.3)
    assert body["parallel_tool_calls"] is False
    assert body["user"] == "u1"
    assert body["top_p"] == 0.5
    assert body["seed"] == 9  # a call keyword wins over a request option
    assert body["temperature"] == 0.3
    _, body = send(request, top_p=0.5, endpoint="responses", model="gpt-4.1")
    assert body["top_p"] == 0.5 and body["seed"] == 7


# -- reasoning controls ------------------------------------------------------------------------------------


def test_reasoning_controls_on_responses() -> None:
    _, body = send(
        [allm.user("hi")],
        model="gpt-5",
        reasoning_effort="high",
        reasoning_summary="detailed",
        verbosity="low",
    )
    assert body["reasoning"] == {"effort": "high", "summary": "detailed"}
    assert body["text"] == {"verbosity": "low"}
    assert "reasoning_effort" not in body and "verbosity" not in body


def test_reasoning_controls_on_chat_completions_for_gpt5_and_the_o_series() -> None:
    _, body = send(
        [allm.user("hi")],
        model="gpt-5-mini",
        endpoint="chat_completions",
        reasoning_effort="minimal",
        reasoning_summary="auto",
        verbosity="high",
    )
    assert body["reasoning_effort"] == "minimal"
    assert body["verbosity"] == "high"
    assert "reasoning_summary" not in body and "reasoning" not in body
    _, body = send(
        [allm.user("hi")],
        model="o3-mini",
        endpoint="chat_completions",
        reasoning_effort="low",
        verbosity="low",
    )
    assert body["reasoning_effort"] == "low" and "verbosity" not in body


def test_reasoning_controls_are_dropped_for_other_chat_models() -> None:
    _, body = send(
        [allm.user("hi")],
        model="gpt-4o",
        reasoning_effort="low",
        reasoning_summary="auto",
        verbosity="low",
    )
    assert not {"reasoning_effort", "reasoning_summary", "verbosity", "reasoning"} & set(body)


@pytest.mark.parametrize(
    ("name", "value"),
    [("reasoning_effort", "extreme"), ("reasoning_summary", "long"), ("verbosity", 3)],
)
def test_unknown_reasoning_values_are_programmer_errors(name: str, value: Any) -> None:
    server = server_for("responses")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts())
    with pytest.raises(ConfigurationError) as info:
        allm.stream_generate(engine, [allm.user("hi")], api_key="k", **{name: value})
    assert name in str(info.value.problems)
    assert server.requests == []


def test_compatible_servers_pass_reasoning_controls_through_unvalidated() -> None:
    adapter = OpenAICompatible(base_url="http://localhost:8000/v1")
    _, body = send(
        [allm.user("hi")],
        model="qwen3",
        adapter=adapter,
        reasoning_effort="default",
        verbosity="low",
        reasoning_summary="auto",
    )
    assert body["reasoning_effort"] == "default" and body["verbosity"] == "low"
    assert "reasoning_summary" not in body


def test_store_false_asks_for_encrypted_reasoning_on_reasoning_models() -> None:
    request = allm.request([allm.user("hi")], options={"store": False})
    _, body = send(request, model="o4-mini")
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    _, body = send(request, model="gpt-4.1", endpoint="responses")
    assert "include" not in body  # not a reasoning model
    custom = allm.request([allm.user("hi")], options={"store": False, "include": []})
    _, body = send(custom, model="gpt-5")
    assert body["include"] == []


# -- messages, tools, formats ---------------------------------------------------------------------------


def conversation() -> list[Message]:
    call = allm.ToolCall("call_1", "get_weather", {"city": "Oslo"}, '{"city":"Oslo"}')
    return [
        allm.system("Be brief."),
        Message(
            "user",
            [TextPart("What is this?"), ImagePart.from_url("https://x.test/a.png", detail="high")],
        ),
        Message("assistant", "Let me check.", tool_calls=(call,)),
        allm.tool_result("call_1", {"temp_c": 3}),
        Message(
            "assistant", "", tool_calls=(allm.ToolCall("call_2", "get_weather", {"city": "Rome"}),)
        ),
        allm.tool_result("call_2", "sunny"),
        Message("user", [TextPart("And this?"), ImagePart.from_bytes(PNG, "image/png")]),
    ]


def test_chat_messages_roles_images_and_tool_turns() -> None:
    _, body = send(allm.request(conversation(), tools=[WEATHER]))
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x.test/a.png", "detail": "high"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c":3}'},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And this?"},
                {"type": "image_url", "image_url": {"url": data_uri, "detail": "auto"}},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": WEATHER.schema,
                "strict": False,
            },
        }
    ]


def test_responses_input_items_roles_images_and_tool_turns() -> None:
    _, body = send(allm.request(conversation(), tools=[WEATHER]), model="gpt-5")
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert body["input"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "high"},
            ],
        },
        {"role": "assistant", "content": "Let me check."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temp_c":3}'},
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"city":"Rome"}',
        },
        {"type": "function_call_output", "call_id": "call_2", "output": "sunny"},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "And this?"},
                {"type": "input_image", "image_url": data_uri, "detail": "auto"},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": WEATHER.schema,
            "strict": False,
        }
    ]


def test_invalid_raw_arguments_are_replaced_by_the_parsed_ones() -> None:
    call = allm.ToolCall("c1", "get_weather", {"city": "Oslo"}, '{"city": "Os')
    request = allm.request(
        [allm.user("q"), Message("assistant", "", tool_calls=(call,)), allm.tool_result("c1", "ok")]
    )
    _, body = send(request)
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Oslo"}'


@pytest.mark.parametrize(
    ("choice", "chat", "responses"),
    [
        ("auto", "auto", "auto"),
        ("none", "none", "none"),
        ("required", "required", "required"),
        (
            "get_weather",
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
        (
            ("tool", "get_weather"),
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
        (
            {"type": "function", "name": "get_weather"},
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice_on_both_wires(choice: Any, chat: Any, responses: Any) -> None:
    request = allm.request([allm.user("hi")], tools=[WEATHER], tool_choice=choice)
    assert send(request)[1]["tool_choice"] == chat
    assert send(request, model="gpt-5")[1]["tool_choice"] == responses


def test_strict_tools_from_tool_metadata() -> None:
    strict = Tool("t", "d", {"type": "object", "properties": {}}, metadata={"strict": True})
    _, body = send(allm.request([allm.user("hi")], tools=[strict]))
    assert body["tools"][0]["function"]["strict"] is True
    _, body = send(allm.request([allm.user("hi")], tools=[strict]), model="gpt-5")
    assert body["tools"][0]["strict"] is True


@pytest.mark.parametrize(
    ("response_format", "chat", "responses"),
    [
        (None, None, None),
        ("text", None, {"format": {"type": "text"}}),
        ({"type": "json_object"}, {"type": "json_object"}, {"format": {"type": "json_object"}}),
        (
            allm.json_schema("answer", {"type": "object", "properties": {"a": {"type": "string"}}}),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "strict": True,
                },
            },
            {
                "format": {
                    "type": "json_schema",
                    "name": "answer",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "strict": True,
                }
            },
        ),
    ],
)
def test_response_format_on_both_wires(response_format: Any, chat: Any, responses: Any) -> None:
    request = allm.request([allm.user("hi")], response_format=response_format)
    assert send(request)[1].get("response_format") == chat
    assert send(request, model="gpt-5")[1].get("text") == responses


def test_structured_finalize_is_required_for_tools_with_a_json_schema() -> None:
    schema = allm.json_schema("a", {"type": "object"})
    for adapter in (OpenAI(), OpenAICompatible(base_url="http://x")):
        assert adapter.requires_structured_finalize(
            allm.request([allm.user("q")], tools=[WEATHER], response_format=schema)
        )
        assert not adapter.requires_structured_finalize(
            allm.request([allm.user("q")], tools=[WEATHER])
        )
        assert not adapter.requires_structured_finalize(
            allm.request([allm.user("q")], response_format=schema)
        )
        assert not adapter.requires_structured_finalize(
            allm.request([allm.user("q")], tools=[WEATHER], response_format="json_object")
        )


# -- refusals before I/O -------------------------------------------------------------------------------------


def test_an_image_in_a_system_message_is_rejected_before_any_key_or_io() -> None:
    server = server_for("chat_completions")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts())
    system = Message("system", [TextPart("x"), ImagePart.from_bytes(PNG, "image/png")])
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(engine, [system, allm.user("hi")])  # no key anywhere: not needed
    assert (("messages", 0, "content"), "image_in_system_message") in info.value.errors
    assert server.requests == []


@pytest.mark.parametrize("streaming", [True, False])
def test_an_unsupported_image_type_is_rejected_before_any_io(streaming: bool) -> None:
    server = server_for("responses")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-5", adapter_opts=server.opts())
    message = Message("user", [ImagePart.from_bytes(b"BM....", "image/bmp")])
    with pytest.raises(ValidationError) as info:
        if streaming:
            allm.stream_generate(engine, [message], api_key="k")
        else:
            allm.generate(engine, [message], streaming=False, api_key="k")
    assert (("messages", 0, "content", 0), "unsupported_image_format") in info.value.errors
    assert server.requests == []


def test_a_missing_openai_key_fails_before_any_io() -> None:
    server = server_for("chat_completions")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts())
    with pytest.raises(EngineError) as info:
        allm.stream_generate(engine, [allm.user("hi")])
    assert info.value.reason == "missing_key"
    assert "OPENAI_API_KEY" in str(info.value)
    assert server.requests == []


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server = server_for("chat_completions")
    engine = allm.Engine(adapter=OpenAI(), model="gpt-4o", adapter_opts=server.opts(), retry=False)
    allm.generate(engine, [allm.user("hi")])
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_compatible_needs_a_base_url_before_any_io() -> None:
    engine = allm.Engine(adapter=OpenAICompatible(), model="llama3")
    with pytest.raises(ConfigurationError) as info:
        allm.stream_generate(engine, [allm.user("hi")])
    assert "base_url" in str(info.value.problems)


def test_compatible_sends_a_key_only_when_one_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = OpenAICompatible(base_url="http://localhost:11434/v1")
    server, _ = send([allm.user("hi")], model="llama3", adapter=adapter, api_key=None)
    assert "authorization" not in server.requests[0].headers
    assert str(server.requests[0].url) == "http://localhost:11434/v1/chat/completions"
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "gsk-123")
    server, _ = send([allm.user("hi")], model="llama3", adapter=adapter, api_key=None)
    assert server.requests[0].headers["authorization"] == "Bearer gsk-123"
    server, _ = send([allm.user("hi")], model="llama3", adapter=adapter, api_key="call-key")
    assert server.requests[0].headers["authorization"] == "Bearer call-key"


def test_compatible_defaults_to_chat_completions_whatever_the_model() -> None:
    adapter = OpenAICompatible(base_url="http://localhost:8000/v1")
    server, _ = send(
        [allm.user("hi")], model="gpt-5", adapter=adapter, server=server_for("chat_completions")
    )
    assert server.requests[0].url.path == "/v1/chat/completions"
    server, _ = send([allm.user("hi")], model="gpt-5", adapter=adapter, endpoint="responses")
    assert server.requests[0].url.path == "/v1/responses"


def test_the_key_never_shows_in_reprs_or_errors() -> None:
    adapter = OpenAI()
    engine = allm.Engine(adapter=adapter, model="gpt-4o")
    from allm.adapters import Call

    call = Call("r1", engine, api_key="sk-very-secret")
    built = adapter.build_request(
        allm.request([allm.user("hi")], model="gpt-4o"), call, stream=True
    )
    assert built.header("authorization") == "Bearer sk-very-secret"
    assert "sk-very-secret" not in repr(built)
    assert "sk-very-secret" not in repr(call)
    assert "sk-very-secret" not in repr(adapter)
    server = Server(
        (
            401,
            {"content-type": "application/json"},
            [b'{"error":{"message":"bad key","code":"invalid_api_key"}}'],
        )
    )
    engine = allm.Engine(adapter=adapter, model="gpt-4o", adapter_opts=server.opts(), retry=False)
    response = allm.generate(engine, [allm.user("hi")], api_key="sk-very-secret")
    error = response.metadata["error"]
    assert error.reason == "authentication_failed"
    assert "sk-very-secret" not in repr(error) + str(error) + allm.to_json(response)


def test_prepare_request_gives_an_httpx_request() -> None:
    adapter = OpenAI()
    engine = allm.Engine(adapter=adapter, model="gpt-5")
    from allm.adapters import Call

    prepared = adapter.prepare_request(
        allm.request([allm.user("hi")], model="gpt-5"), Call("r", engine, api_key="k"), stream=True
    )
    assert str(prepared.url) == "https://api.openai.com/v1/responses"
    assert b'"stream":true' in prepared.content
