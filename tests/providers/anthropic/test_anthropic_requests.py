"""What the Anthropic adapter sends: system hoisting, defaults, tools and tool_choice, images,
tool results, thinking blocks sent back, structured output, parameters, keys, pre-flight."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.providers.anthropic.support import (
    DIRECTORY,
    STREAM_HEADERS,
    Served,
    engine_for,
    request_from_body,
    text_events,
)
from tests.providers.wire import load

import allm
from allm.adapters import Call
from allm.data.messages import Image, ImagePart, Message, Role, TextPart
from allm.data.tools import ToolCall
from allm.providers.anthropic import Anthropic

WEATHER = allm.Tool(
    "get_weather",
    "Get the current weather for a city.",
    {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def sent(request: allm.Request, driver: Any = None, **opts: Any) -> dict[str, Any]:
    """The JSON body the adapter sends for ``request`` (answered by a small text stream)."""
    served = Served((200, STREAM_HEADERS, text_events("ok")))
    engine = served.engine(**opts.pop("engine_fields", {}))
    if driver is None:
        response = allm.generate(engine, request, api_key="test-key", **opts)
    else:
        response = driver.generate(engine, request, api_key="test-key", **opts)
    assert response.finish_reason == "stop", response.metadata.get("error")
    assert len(served.requests) == 1
    return served.bodies()[0]


def req(*messages: Message, **fields: Any) -> allm.Request:
    return allm.request(list(messages), model=fields.pop("model", "claude-haiku-4-5"), **fields)


# -- body basics --------------------------------------------------------------------------------


def test_system_messages_are_hoisted_and_joined(driver: Any) -> None:
    body = sent(
        req(
            allm.system("You are terse."),
            allm.user("Hi"),
            Message(Role.SYSTEM, (TextPart("Answer in"), TextPart("French."))),
            allm.user("Bye"),
        ),
        driver,
    )
    assert body["system"] == "You are terse.\n\nAnswer in\nFrench."
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "user", "content": "Bye"},
    ]
    assert body["stream"] is True


def test_no_system_field_without_system_messages() -> None:
    assert "system" not in sent(req(allm.user("Hi")))


def test_max_tokens_defaults_to_1024_and_an_explicit_value_wins() -> None:
    assert sent(req(allm.user("Hi")))["max_tokens"] == 1024
    assert sent(req(allm.user("Hi"), max_tokens=77))["max_tokens"] == 77
    assert sent(req(allm.user("Hi")), max_tokens=55)["max_tokens"] == 55


def test_thinking_params_are_merged_and_the_default_leaves_room_for_the_budget() -> None:
    thinking = {"type": "enabled", "budget_tokens": 2048}
    body = sent(req(allm.user("Hi")), provider_options={"anthropic": {"thinking": thinking}})
    assert body["thinking"] == thinking
    assert body["max_tokens"] == 2048 + 1024
    body = sent(
        req(allm.user("Hi"), max_tokens=4096),
        provider_options={"anthropic": {"thinking": thinking}},
    )
    assert body["max_tokens"] == 4096
    assert (
        sent(
            req(allm.user("Hi")), provider_options={"anthropic": {"thinking": {"type": "adaptive"}}}
        )["max_tokens"]
        == 1024
    )


def test_temperature_params_and_options_reach_the_body(driver: Any) -> None:
    body = sent(
        req(allm.user("Hi"), temperature=0.2, options={"top_k": 7, "metadata": {"user_id": "u1"}}),
        driver,
        top_p=0.9,
        provider_options={"anthropic": {"stop_sequences": ["END"]}},
        engine_fields={"params": {"top_k": 3, "top_p": 0.5}},
    )
    assert body["temperature"] == 0.2
    assert body["top_k"] == 7  # request options beat engine params
    assert body["top_p"] == 0.9  # a call keyword beats an engine param
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u1"}
    for transport_key in ("http_client", "async_http_client", "cursor_key", "api_key"):
        assert transport_key not in body


def test_provider_tools_from_options_join_the_request_tools() -> None:
    search = {"type": "web_search_20250305", "name": "web_search"}
    body = sent(req(allm.user("Hi"), tools=[WEATHER], options={"tools": [search]}))
    assert [tool["name"] for tool in body["tools"]] == ["get_weather", "web_search"]
    assert body["tools"][1] == search


def test_options_cannot_turn_streaming_off() -> None:
    assert sent(req(allm.user("Hi"), options={"stream": False}))["stream"] is True


# -- tools ----------------------------------------------------------------------------------------


def test_tools_are_sent_with_input_schema() -> None:
    bare = allm.Tool("ping", "", {"type": "object", "properties": {}})
    body = sent(req(allm.user("Hi"), tools=[WEATHER, bare]))
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "input_schema": WEATHER.schema,
        },
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
        (("tool", "get_weather"), {"type": "tool", "name": "get_weather"}),
        (
            {"type": "any", "disable_parallel_tool_use": True},
            {"type": "any", "disable_parallel_tool_use": True},
        ),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice_mapping(choice: Any, wire: dict[str, Any]) -> None:
    assert sent(req(allm.user("Hi"), tools=[WEATHER], tool_choice=choice))["tool_choice"] == wire


def test_a_non_forcing_choice_without_tools_is_left_out() -> None:
    assert "tool_choice" not in sent(req(allm.user("Hi"), tool_choice="auto"))
    assert "tool_choice" not in sent(req(allm.user("Hi"), tool_choice="none"))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"tool_choice": "required"}, "forcing_choice_without_tools"),
        ({"tool_choice": {"type": "any"}}, "forcing_choice_without_tools"),
        ({"tools": [WEATHER], "tool_choice": {"type": "sometimes"}}, "unsupported_tool_choice"),
        ({"response_format": {"type": "xml"}}, "unsupported_response_format"),
    ],
)
def test_bad_choices_fail_before_any_request_or_key(fields: dict[str, Any], reason: str) -> None:
    served = Served((200, STREAM_HEADERS, text_events("never")))
    with pytest.raises(allm.ValidationError) as caught:
        allm.generate(served.engine(), req(allm.user("Hi"), **fields))  # no key anywhere
    assert any(problem == reason for _, problem in caught.value.errors)
    assert served.requests == []


def test_missing_model_is_an_engine_error() -> None:
    served = Served((200, STREAM_HEADERS, text_events("never")))
    engine = allm.Engine(adapter=Anthropic(), adapter_opts={"http_client": served.client()})
    with pytest.raises(allm.EngineError) as caught:
        allm.generate(engine, [allm.user("Hi")], api_key="k")
    assert caught.value.reason == "missing_model"
    assert served.requests == []


# -- images ---------------------------------------------------------------------------------------


def test_images_as_url_and_base64_sources(tmp_path: Any, driver: Any) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    encoded = base64.b64encode(PNG).decode("ascii")
    content = (
        TextPart("What is in these?"),
        ImagePart.from_url("https://example.com/cat.jpg", detail="high"),
        ImagePart.from_bytes(PNG, "image/png"),
        ImagePart(Image.from_base64(encoded, "image/gif")),
        ImagePart.from_file(path),
    )
    body = sent(req(Message(Role.USER, content)), driver)
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": encoded}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}},
    ]


def test_text_only_parts_are_flattened_to_a_string() -> None:
    body = sent(req(Message(Role.USER, (TextPart("a"), TextPart("b")))))
    assert body["messages"][0]["content"] == "a\nb"


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            Message(Role.SYSTEM, (TextPart("x"), ImagePart.from_bytes(PNG, "image/png"))),
            "image_in_system_message",
        ),
        (Message(Role.USER, (ImagePart.from_bytes(PNG, "image/bmp"),)), "unsupported_image_format"),
        (
            Message(
                Role.USER, (ImagePart.from_bytes(b"\0" * (20 * 1024 * 1024 + 1), "image/png"),)
            ),
            "image_too_large",
        ),
    ],
)
def test_bad_images_are_rejected_before_the_key_and_the_request(
    message: Message, problem: str
) -> None:
    served = Served((200, STREAM_HEADERS, text_events("never")))
    with pytest.raises(allm.ValidationError) as caught:
        allm.generate(served.engine(), req(message, allm.user("Hi")))  # no key configured
    assert [reason for _, reason in caught.value.errors] == [problem]
    assert served.requests == []


# -- tool results and assistant turns ---------------------------------------------------------------


def test_parallel_tool_results_go_back_in_one_user_turn() -> None:
    calls = (
        ToolCall("toolu_1", "get_weather", {"location": "Paris"}),
        ToolCall("toolu_2", "get_weather", {"location": "Tokyo"}),
    )
    error_result = Message(
        Role.TOOL, "city not found", tool_call_id="toolu_2", metadata={"is_error": True}
    )
    body = sent(
        req(
            allm.user("Weather in Paris and Tokyo?"),
            Message(Role.ASSISTANT, "Checking both.", tool_calls=calls),
            allm.tool_result("toolu_1", {"temp_c": 21}),
            error_result,
            allm.user("Thanks!"),
            tools=[WEATHER],
        )
    )
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "get_weather",
                    "input": {"location": "Tokyo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"temp_c":21}'},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "city not found",
                    "is_error": True,
                },
            ],
        },
        {"role": "user", "content": "Thanks!"},
    ]


def test_tool_results_of_separate_turns_stay_separate_and_images_travel() -> None:
    body = sent(
        req(
            allm.user("Go"),
            Message(Role.ASSISTANT, "", tool_calls=(ToolCall("t1", "get_weather", {}),)),
            Message(
                Role.TOOL,
                (TextPart("chart:"), ImagePart.from_bytes(PNG, "image/png")),
                tool_call_id="t1",
            ),
            Message(Role.ASSISTANT, "", tool_calls=(ToolCall("t2", "get_weather", {}),)),
            allm.tool_result("t2", "done"),
            tools=[WEATHER],
        )
    )
    roles = [turn["role"] for turn in body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}
    ]
    first = body["messages"][2]["content"][0]
    assert first["tool_use_id"] == "t1"
    assert first["content"][0] == {"type": "text", "text": "chart:"}
    assert first["content"][1]["source"]["media_type"] == "image/png"
    assert body["messages"][4]["content"] == [
        {"type": "tool_result", "tool_use_id": "t2", "content": "done"}
    ]


def test_empty_assistant_turns_are_left_out_and_images_in_history_flattened() -> None:
    body = sent(
        req(
            allm.user("One"),
            allm.assistant(""),
            allm.user("Two"),
            Message(Role.ASSISTANT, (TextPart("seen"), ImagePart.from_url("https://x/y.png"))),
        )
    )
    assert body["messages"] == [
        {"role": "user", "content": "One"},
        {"role": "user", "content": "Two"},
        {"role": "assistant", "content": "seen"},
    ]


def test_reasoning_blocks_are_sent_back_verbatim_and_foreign_ones_dropped() -> None:
    blocks = (
        {"text": "think", "signature": "sig-1", "id": "thinking"},
        {"text": "", "signature": "opaque-data", "id": "redacted_thinking"},
        {"text": "unsigned", "signature": None, "id": "thinking"},
        {"text": "openai summary", "signature": "enc", "id": "rs_123"},
        {"type": "thinking", "thinking": "native", "signature": "sig-2"},
        "not a block",
    )
    message = Message(
        Role.ASSISTANT,
        "",
        tool_calls=(ToolCall("t1", "get_weather", {"location": "Oslo"}),),
        metadata={"reasoning_blocks": blocks},
    )
    body = sent(req(allm.user("Go"), message, allm.tool_result("t1", "5C"), tools=[WEATHER]))
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "think", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque-data"},
        {"type": "thinking", "thinking": "native", "signature": "sig-2"},
        {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"location": "Oslo"}},
    ]


# -- multi-turn round trips through a real response -------------------------------------------------


def _round_trip(case_name: str, driver: Any) -> tuple[allm.Response, dict[str, Any]]:
    case = load(DIRECTORY, case_name)
    request, params = request_from_body(case.request["body"])
    first = driver.generate(engine_for(case), request, api_key="test-key", **params)
    assistant = Message(
        Role.ASSISTANT,
        first.output_text or "",
        tool_calls=first.tool_calls,
        metadata={"reasoning_blocks": first.metadata.get("reasoning_blocks", ())},
    )
    results = [
        allm.tool_result(call.id, {"temp_c": 20 + i}) for i, call in enumerate(first.tool_calls)
    ]
    thread = [*request.messages, assistant, *results, allm.user("And tomorrow?")]
    second = allm.request(thread, model=request.model, tools=request.tools)
    return first, sent(second, driver, **params)


def test_parallel_tool_call_round_trip(driver: Any) -> None:
    first, body = _round_trip("parallel_tool_use_stream", driver)
    assert [c.id for c in first.tool_calls] == [
        "toolu_01A9pXnV3kQz7LmB2cRt5Ywe",
        "toolu_01Hq4TzW8nMv2JdK6sPf1Xab",
    ]
    assistant, results, final = body["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll look up the weather in both cities at the same time."},
            {
                "type": "tool_use",
                "id": "toolu_01A9pXnV3kQz7LmB2cRt5Ywe",
                "name": "get_weather",
                "input": {"location": "Paris, France"},
            },
            {
                "type": "tool_use",
                "id": "toolu_01Hq4TzW8nMv2JdK6sPf1Xab",
                "name": "get_weather",
                "input": {"location": "Tokyo, Japan"},
            },
        ],
    }
    assert results == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A9pXnV3kQz7LmB2cRt5Ywe",
                "content": '{"temp_c":20}',
            },
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01Hq4TzW8nMv2JdK6sPf1Xab",
                "content": '{"temp_c":21}',
            },
        ],
    }
    assert final == {"role": "user", "content": "And tomorrow?"}


def test_thinking_signature_round_trip(driver: Any) -> None:
    case = load(DIRECTORY, "thinking_tool_use_stream")
    first, body = _round_trip("thinking_tool_use_stream", driver)
    signature = case.expect["thinking_signatures"][0]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": first.reasoning, "signature": signature},
        {
            "type": "tool_use",
            "id": "toolu_01Th1nkT00lOs10Wq4Zx8",
            "name": "get_weather",
            "input": {"location": "Oslo, Norway"},
        },
    ]
    assert body["messages"][2]["content"][0]["tool_use_id"] == "toolu_01Th1nkT00lOs10Wq4Zx8"


def test_redacted_thinking_round_trip(driver: Any) -> None:
    case = load(DIRECTORY, "redacted_thinking_stream")
    _, body = _round_trip("redacted_thinking_stream", driver)
    assert body["messages"][1]["content"][:2] == [
        {"type": "redacted_thinking", "data": data}
        for data in case.expect["redacted_thinking_blocks"]
    ]
    assert body["messages"][1]["content"][2]["type"] == "text"


def test_the_chat_loop_sends_thinking_tool_use_and_result_back(driver: Any) -> None:
    case = load(DIRECTORY, "thinking_tool_use_stream")
    served = Served(
        (case.status, case.headers, case.body), (200, STREAM_HEADERS, text_events("It is 5C."))
    )
    tool = allm.Tool(WEATHER.name, WEATHER.description, WEATHER.schema, handler=lambda args: "5C")
    engine = served.engine(model="claude-sonnet-4-5", tools=(tool,))
    thinking_options = {"anthropic": {"thinking": {"type": "enabled", "budget_tokens": 2048}}}
    if driver.name == "sync":
        result = allm.chat(
            engine, [allm.user("Weather in Oslo?")], api_key="k", provider_options=thinking_options
        )
    else:
        import anyio

        async def run() -> Any:
            return await allm.achat(
                engine,
                [allm.user("Weather in Oslo?")],
                api_key="k",
                provider_options=thinking_options,
            )

        result = anyio.run(run)
    assert result.final_response.output_text == "It is 5C."
    second = served.bodies()[1]
    assert second["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants the weather in Oslo. I should call get_weather with the city and country.",
        "signature": case.expect["thinking_signatures"][0],
    }
    assert second["messages"][1]["content"][1]["type"] == "tool_use"
    assert second["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01Th1nkT00lOs10Wq4Zx8", "content": "5C"}
        ],
    }


# -- structured output ------------------------------------------------------------------------------


def test_structured_output_forces_a_synthetic_tool() -> None:
    body = sent(
        req(
            allm.user("Capital of Portugal?"), response_format=allm.json_schema("city info", SCHEMA)
        )
    )
    assert body["tools"] == [
        {
            "name": "respond_with_json_city_info",
            "description": "Return the final result as a JSON object matching the schema.",
            "input_schema": SCHEMA,
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "respond_with_json_city_info"}


def test_structured_output_with_thinking_is_offered_not_forced() -> None:
    body = sent(
        req(allm.user("Hi"), response_format=allm.json_schema("city", SCHEMA)),
        provider_options={"anthropic": {"thinking": {"type": "enabled", "budget_tokens": 1024}}},
    )
    assert body["tool_choice"] == {"type": "auto"}
    assert body["tools"][0]["name"] == "respond_with_json_city"


def test_json_object_format_uses_an_open_object_schema() -> None:
    body = sent(req(allm.user("Hi"), response_format={"type": "json_object"}))
    assert body["tools"][0]["name"] == "respond_with_json_object"
    assert body["tools"][0]["input_schema"] == {"type": "object"}


def test_the_synthetic_tool_is_not_injected_again_after_it_was_called() -> None:
    called = Message(
        Role.ASSISTANT,
        "",
        tool_calls=(ToolCall("t1", "respond_with_json_city", {"city": "Lisbon"}),),
    )
    body = sent(
        req(
            allm.user("Hi"),
            called,
            allm.tool_result("t1", "ok"),
            response_format=allm.json_schema("city", SCHEMA),
        )
    )
    assert "tools" not in body
    assert "tool_choice" not in body


def test_a_user_tool_named_like_the_synthetic_tool_is_rejected() -> None:
    clash = allm.Tool("respond_with_json_city", "mine", SCHEMA)
    with pytest.raises(allm.ValidationError) as caught:
        sent(req(allm.user("Hi"), tools=[clash], response_format=allm.json_schema("city", SCHEMA)))
    assert caught.value.errors == ((("tools",), "collides_with_structured_output_tool"),)


def test_structured_output_with_user_tools_asks_for_a_finalize_pass() -> None:
    adapter = Anthropic()
    fmt = allm.json_schema("city", SCHEMA)
    assert adapter.requires_structured_finalize(
        req(allm.user("Hi"), tools=[WEATHER], response_format=fmt)
    )
    assert not adapter.requires_structured_finalize(req(allm.user("Hi"), response_format=fmt))
    assert not adapter.requires_structured_finalize(req(allm.user("Hi"), tools=[WEATHER]))


# -- keys and headers -------------------------------------------------------------------------------


def test_key_from_the_environment_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    served = Served((200, STREAM_HEADERS, text_events("ok")))
    engine = allm.Engine(
        adapter=Anthropic(),
        model="claude-haiku-4-5",
        adapter_opts={"http_client": served.client(), "headers": {"anthropic-beta": "tools-2024"}},
    )
    allm.generate(engine, [allm.user("Hi")])
    headers = served.requests[0].headers
    assert headers["x-api-key"] == "sk-ant-from-env"
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == "tools-2024"
    assert str(served.requests[0].url) == "https://api.anthropic.com/v1/messages"


def test_a_missing_key_raises_before_sending() -> None:
    served = Served((200, STREAM_HEADERS, text_events("never")))
    with pytest.raises(allm.EngineError) as caught:
        allm.generate(served.engine(), [allm.user("Hi")])
    assert caught.value.reason == "missing_key"
    assert served.requests == []


def test_the_key_never_shows_in_reprs_errors_or_serialized_results() -> None:
    secret = "sk-ant-api03-SECRET-value"
    adapter = Anthropic(base_url="https://proxy.example/v1/")
    call = Call(request_id="r1", engine=allm.Engine(), api_key=secret)
    request = req(allm.user("Hi"))
    built = adapter.build_request(request, call, stream=True)
    assert built.url == "https://proxy.example/v1/messages"
    assert built.header("x-api-key") == secret
    assert secret not in repr(built)
    assert secret not in repr(call)
    assert secret not in repr(adapter)
    case = load(DIRECTORY, "error_401_authentication")
    response = allm.generate(engine_for(case), request, api_key=secret)
    error = response.metadata["error"]
    assert error.reason == "authentication_failed"
    for text in (str(error), repr(error), allm.to_json(response), repr(response)):
        assert secret not in text
