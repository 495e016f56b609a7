"""The Gemini request builder: body fields, renaming, schemas, tool config, images, pre-flight,
keys, and multi-turn round trips (tool calls, tool results and thought signatures sent back)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import Driver
from tests.providers.gemini.support import KEY, WEATHER_SCHEMA, engine_for, request_from_wire
from tests.providers.wire import is_subset, load

import allm
from allm.adapters import Call
from allm.data.messages import ImagePart, Message, Role, TextPart
from allm.data.tools import ToolCall
from allm.errors import AdapterError, EngineError, ValidationError
from allm.providers.gemini import (
    SKIP_SIGNATURE,
    TEXT_SIGNATURE_ID,
    THOUGHT_SIGNATURE_ID,
    Gemini,
    sanitize_schema,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WEATHER = allm.Tool("get_weather", "Get the current weather for a city.", WEATHER_SCHEMA)


def _call(**params: Any) -> Call:
    return Call(request_id="req-test", engine=allm.Engine(adapter=Gemini()), params=params)


def body_of(request: allm.Request, **params: Any) -> dict[str, Any]:
    """The body the adapter builds for ``request`` (no key needed)."""
    return Gemini().build_body(request, _call(**params))


def _req(*messages: Message, **fields: Any) -> allm.Request:
    return allm.request(list(messages), model="gemini-2.5-flash", **fields)


class Recorder:
    """A MockTransport handler that records requests and answers with canned bodies in turn."""

    def __init__(self, *answers: tuple[int, dict[str, str], bytes]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def _next(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, headers, body = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return httpx.Response(status, headers=headers, content=body)

    def engine(self, **fields: Any) -> allm.Engine:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self._next(request)

        return allm.Engine(
            adapter=Gemini(),
            model=fields.pop("model", "gemini-2.5-flash"),
            adapter_opts={
                "http_client": httpx.Client(transport=httpx.MockTransport(self._next)),
                "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            },
            retry=fields.pop("retry", False),
            **fields,
        )

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


SSE = {"content-type": "text/event-stream"}


def answer(name: str) -> tuple[int, dict[str, str], bytes]:
    case = load("gemini", name)
    return case.status, case.headers, case.body


# -- body fields ----------------------------------------------------------------------------------


def test_system_messages_go_to_system_instruction_and_roles_are_user_and_model() -> None:
    body = body_of(
        _req(
            allm.system("Be brief."),
            allm.user("Hi"),
            allm.assistant("Hello!"),
            allm.system("Answer in French."),
            allm.user("How are you?"),
        )
    )
    assert body["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Answer in French."}]
    }
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "How are you?"}]},
    ]
    assert "generationConfig" not in body and "tools" not in body


def test_generation_config_renames_options_and_params() -> None:
    request = _req(
        allm.user("Hi"),
        max_tokens=99,
        temperature=0.2,
        options={
            "top_p": 0.9,
            "stop": "END",
            "thinking_config": {"thinking_budget": 128, "include_thoughts": True},
            "safety_settings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
            ],
            "cached_content": "cachedContents/abc",
            "response_mime_type": "text/plain",
            "presence_penalty": 0.5,
            "generationConfig": {"responseModalities": ["TEXT"]},
        },
    )
    body = body_of(
        request, top_k=40, top_p=0.1, seed=7, reasoning_effort="low", max_output_tokens=5
    )
    assert body["generationConfig"] == {
        "topK": 40,
        "topP": 0.9,  # request.options win over engine params / call keywords
        "seed": 7,
        "thinkingConfig": {"thinkingLevel": "low", "thinkingBudget": 128, "includeThoughts": True},
        "maxOutputTokens": 99,  # the request field wins over a param
        "temperature": 0.2,
        "stopSequences": ["END"],
        "responseMimeType": "text/plain",
        "presencePenalty": 0.5,
        "responseModalities": ["TEXT"],
    }
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]
    assert body["cachedContent"] == "cachedContents/abc"


def test_params_reach_the_body_through_the_public_api(driver: Driver) -> None:
    recorder = Recorder(answer("text_stream"))
    engine = recorder.engine(params={"top_k": 3, "stop": ["a", "b"]})
    driver.generate(
        engine,
        [allm.user("Hi")],
        api_key=KEY,
        provider_options={"gemini": {"generationConfig": {"candidateCount": 1}}},
    )
    config = recorder.body()["generationConfig"]
    assert config == {"topK": 3, "stopSequences": ["a", "b"], "candidateCount": 1}


def test_response_formats() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }
    body = body_of(_req(allm.user("x"), response_format=allm.json_schema("person", schema)))
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
    }
    body = body_of(_req(allm.user("x"), response_format={"type": "json_object"}))
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    openai_style = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
    body = Gemini().build_body(
        allm.Request(model="m", messages=(allm.user("x"),), response_format=openai_style), _call()
    )
    assert "additionalProperties" not in body["generationConfig"]["responseSchema"]
    assert body_of(_req(allm.user("x"), response_format="text")).get("generationConfig") is None


def test_schema_sanitizing_removes_what_gemini_rejects_and_keeps_property_names() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "$defs": {"Unit": {"type": "string", "enum": ["c", "f"]}},
        "properties": {
            "additionalProperties": {"type": "string"},  # a property NAMED like the keyword
            "unit": {"$ref": "#/$defs/Unit", "description": "unit"},
            "when": {"type": ["string", "null"]},
            "kind": {"const": "weather"},
            "either": {
                "oneOf": [{"type": "integer"}, {"type": "object", "additionalProperties": {}}]
            },
            "tags": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": True,
                    "properties": {"k": {"type": "string"}},
                },
            },
            "many": {"type": ["integer", "string"]},
        },
        "required": ["unit"],
    }
    assert sanitize_schema(schema) == {
        "type": "object",
        "properties": {
            "additionalProperties": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"], "description": "unit"},
            "when": {"type": "string", "nullable": True},
            "kind": {"enum": ["weather"]},
            "either": {"anyOf": [{"type": "integer"}, {"type": "object"}]},
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"k": {"type": "string"}}},
            },
            "many": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
        "required": ["unit"],
    }
    recursive = {
        "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
        "$ref": "#/$defs/N",
    }
    assert sanitize_schema(recursive)["type"] == "object"  # bounded, never infinite


def test_tools_and_tool_config() -> None:
    no_args = allm.Tool("now", "The current time.", {"type": "object", "properties": {}})
    strict = allm.Tool("get_weather", "Weather.", {**WEATHER_SCHEMA, "additionalProperties": False})
    body = body_of(_req(allm.user("x"), tools=[no_args, strict], tool_choice="auto"))
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "now", "description": "The current time."},
                {"name": "get_weather", "description": "Weather.", "parameters": WEATHER_SCHEMA},
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    expected = {
        "required": {"mode": "ANY"},
        "none": {"mode": "NONE"},
        "get_weather": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ("tool", "now"): {"mode": "ANY", "allowedFunctionNames": ["now"]},
    }
    for choice, config in expected.items():
        body = body_of(_req(allm.user("x"), tools=[no_args, strict], tool_choice=choice))
        assert body["toolConfig"] == {"functionCallingConfig": config}, choice
    openai_choice = {"type": "function", "function": {"name": "now"}}
    body = body_of(_req(allm.user("x"), tools=[no_args], tool_choice=openai_choice))
    assert body["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"] == ["now"]
    native = {"functionCallingConfig": {"mode": "VALIDATED"}}
    assert (
        body_of(_req(allm.user("x"), tools=[no_args], tool_choice=native))["toolConfig"] == native
    )
    assert "toolConfig" not in body_of(_req(allm.user("x"), tools=[no_args]))
    assert "toolConfig" not in body_of(_req(allm.user("x"), tool_choice="auto"))


def test_images_are_sent_inline(tmp_path: Any) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    content = [
        TextPart("Compare:"),
        ImagePart.from_bytes(PNG, "image/png"),
        ImagePart.from_file(path),
        ImagePart.from_data_uri(
            "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8jpeg").decode()
        ),
    ]
    body = body_of(_req(allm.user(content)))
    encoded = base64.b64encode(PNG).decode()
    assert body["contents"][0]["parts"] == [
        {"text": "Compare:"},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {
            "inlineData": {
                "mimeType": "image/jpeg",
                "data": base64.b64encode(b"\xff\xd8jpeg").decode(),
            }
        },
    ]


# -- pre-flight: raised before any key is resolved or any byte sent -------------------------------


@pytest.mark.parametrize(
    ("message", "error", "reason"),
    [
        (
            Message(Role.SYSTEM, (ImagePart.from_bytes(PNG, "image/png"),)),
            ValidationError,
            "invalid_message",
        ),
        (allm.user([ImagePart.from_bytes(PNG, "image/bmp")]), ValidationError, "invalid_message"),
        (
            allm.user([ImagePart.from_bytes(b"x" * (20 * 1024 * 1024 + 1), "image/png")]),
            ValidationError,
            "invalid_message",
        ),
        (
            allm.user([ImagePart.from_url("https://example.com/cat.png")]),
            AdapterError,
            "unsupported_feature",
        ),
        (allm.tool_result("call_unknown", "42"), ValidationError, "invalid_message"),
    ],
    ids=["image-in-system", "unsupported-type", "too-large", "url-image", "orphan-tool-result"],
)
def test_bad_input_raises_before_any_io(
    driver: Driver, message: Message, error: type[Exception], reason: str
) -> None:
    recorder = Recorder(answer("text_stream"))
    # No key anywhere: a key lookup would raise EngineError("missing_key") instead.
    with pytest.raises(error) as raised:
        driver.generate(recorder.engine(), [allm.user("hi"), message])
    assert raised.value.reason == reason  # type: ignore[attr-defined]
    assert recorder.requests == []
    with pytest.raises(error):
        driver.generate(recorder.engine(), [allm.user("hi"), message], streaming=False)
    assert recorder.requests == []


def test_url_image_error_names_the_part() -> None:
    request = _req(
        allm.user("a"), allm.user([TextPart("b"), ImagePart.from_url("https://x/y.png")])
    )
    with pytest.raises(AdapterError) as raised:
        Gemini().check(request, _call())
    assert raised.value.metadata["paths"] == [["messages", 1, "content", 1]]
    assert raised.value.provider == "gemini"


def test_missing_model_and_missing_key() -> None:
    recorder = Recorder(answer("text_stream"))
    engine = allm.Engine(adapter=Gemini(), adapter_opts=recorder.engine().adapter_opts)
    with pytest.raises(EngineError) as raised:
        allm.generate(engine, [allm.user("hi")], api_key=KEY)
    assert raised.value.reason == "missing_model"
    with pytest.raises(EngineError) as raised:
        allm.generate(recorder.engine(), [allm.user("hi")])
    assert raised.value.reason == "missing_key"
    assert recorder.requests == []


def test_key_from_the_environment_in_the_header_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-env-key")
    recorder = Recorder(answer("text_stream"))
    allm.generate(recorder.engine(), [allm.user("hi")])
    assert recorder.requests[-1].headers["x-goog-api-key"] == "google-env-key"
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-env-key")
    allm.generate(recorder.engine(), [allm.user("hi")])
    sent = recorder.requests[-1]
    assert sent.headers["x-goog-api-key"] == "gemini-env-key"
    assert "key" not in sent.url.params


def test_the_key_never_leaks_into_reprs_errors_or_serialized_results() -> None:
    secret = "AIzaSy-very-secret-key-123"
    recorder = Recorder(answer("error_400_api_key_invalid"))
    response = allm.generate(recorder.engine(), [allm.user("hi")], api_key=secret)
    assert response.error.reason == "authentication_failed"
    prepared = Gemini().prepare_request(
        _req(allm.user("hi")), Call("r", allm.Engine(), api_key=secret)
    )
    assert prepared.headers["x-goog-api-key"] == secret
    built = Gemini().build_request(
        _req(allm.user("hi")), Call("r", allm.Engine(), api_key=secret), stream=True
    )
    for text in (
        repr(built),
        repr(response),
        str(response.error),
        allm.to_json(response),
        repr(Gemini()),
    ):
        assert secret not in text


def test_urls_base_url_and_model_paths() -> None:
    adapter = Gemini(base_url="http://proxy.local/v1beta/")
    call = _call()
    assert adapter.url(_req(allm.user("x")), call, stream=False) == (
        "http://proxy.local/v1beta/models/gemini-2.5-flash:generateContent"
    )
    tuned = allm.Request(model="tunedModels/my-model-7", messages=(allm.user("x"),))
    assert adapter.url(tuned, call, stream=True) == (
        "http://proxy.local/v1beta/tunedModels/my-model-7:streamGenerateContent?alt=sse"
    )
    prefixed = allm.Request(model="models/gemini-2.5-pro", messages=(allm.user("x"),))
    assert (
        Gemini()
        .url(prefixed, call, stream=False)
        .endswith("/v1beta/models/gemini-2.5-pro:generateContent")
    )
    per_call = Call("r", allm.Engine(), adapter_opts={"base_url": "https://eu.example/v1beta"})
    assert Gemini().url(prefixed, per_call, stream=False).startswith("https://eu.example/v1beta/")


def test_gemini_is_the_registered_adapter_name() -> None:
    recorder = Recorder(answer("text_stream"))
    engine = allm.Engine(
        adapter="gemini", model="gemini-2.5-flash", adapter_opts=recorder.engine().adapter_opts
    )
    assert allm.generate(engine, [allm.user("hi")], api_key=KEY).finish_reason == "stop"


# -- multi-turn round trips -----------------------------------------------------------------------


def test_tool_call_round_trip_through_the_chat_loop(driver: Driver) -> None:
    """The chat loop runs the tool and builds turn two from the thread: the model turn carries the
    functionCall and its thoughtSignature, the tool result a functionResponse named after it."""
    seen: list[dict[str, Any]] = []

    def get_weather(arguments: dict[str, Any]) -> dict[str, Any]:
        seen.append(arguments)
        return {"temperature_c": 24, "conditions": "partly cloudy"}

    tool = allm.Tool(
        "get_weather", "Get the current weather for a city.", WEATHER_SCHEMA, handler=get_weather
    )
    recorder = Recorder(answer("tool_call_stream"), answer("tool_result_followup_stream"))
    engine = recorder.engine(tools=[tool])
    question = "What's the weather in São Paulo right now?"
    if driver.name == "sync":
        result = allm.chat(engine, [allm.user(question)], api_key=KEY, tool_choice="auto")
    else:
        import anyio

        async def run() -> Any:
            return await allm.achat(engine, [allm.user(question)], api_key=KEY, tool_choice="auto")

        result = anyio.run(run)
    assert seen == [{"location": "São Paulo, Brazil", "unit": "celsius"}]
    assert result.final_response.text == "It's 24 °C and partly cloudy in São Paulo right now."
    assert len(recorder.requests) == 2
    signature = load("gemini", "tool_call_stream").expect["thought_signatures"][0]
    contents = recorder.body(1)["contents"]
    assert contents == [
        {"role": "user", "parts": [{"text": question}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {
                        "name": "get_weather",
                        "args": {"location": "São Paulo, Brazil", "unit": "celsius"},
                    },
                    "thoughtSignature": signature,
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "name": "get_weather",
                        "response": {"temperature_c": 24, "conditions": "partly cloudy"},
                    }
                }
            ],
        },
    ]


def test_parallel_calls_round_trip_with_a_final_user_turn() -> None:
    case = load("gemini", "parallel_tool_calls_stream")
    first = allm.generate(engine_for(case), request_from_wire(case.request["body"]), api_key=KEY)
    paris, tokyo = first.tool_calls
    thread = [
        allm.user("What's the weather in Paris and in Tokyo right now?"),
        Message(Role.ASSISTANT, first.output_text or "", tool_calls=first.tool_calls),
        allm.tool_result(tokyo.id, "Rain, 14 °C"),  # answered out of order
        allm.tool_result(paris.id, {"temperature_c": 19}),
        allm.user("Which is warmer?"),
    ]
    body = body_of(_req(*thread, tools=[WEATHER]))
    model_turn, results, final = body["contents"][1:]
    assert model_turn["parts"][0] == {
        "functionCall": {"name": "get_weather", "args": {"location": "Paris, France"}},
        "thoughtSignature": paris.metadata["thought_signature"],
    }
    assert model_turn["parts"][1] == {
        "functionCall": {"name": "get_weather", "args": {"location": "Tokyo, Japan"}}
    }
    # Both results in ONE user turn; no ids (Gemini gave none), the name recovered from the call.
    assert results == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "Rain, 14 °C"}}},
            {"functionResponse": {"name": "get_weather", "response": {"temperature_c": 19}}},
        ],
    }
    assert final == {"role": "user", "parts": [{"text": "Which is warmer?"}]}


def test_calls_from_another_provider_keep_their_ids_and_get_the_placeholder_signature() -> None:
    calls = (
        ToolCall("call_abc", "get_weather", {"location": "Rome"}),
        ToolCall("call_def", "get_weather", {"location": "Oslo"}),
    )
    thread = [
        allm.user("Weather in Rome and Oslo?"),
        Message(Role.ASSISTANT, "Checking.", tool_calls=calls),
        allm.tool_result("call_abc", "sunny"),
        allm.tool_result("call_def", "snow"),
    ]
    contents = body_of(_req(*thread, tools=[WEATHER]))["contents"]
    assert contents[1]["parts"] == [
        {"text": "Checking."},
        {
            "functionCall": {"name": "get_weather", "args": {"location": "Rome"}, "id": "call_abc"},
            "thoughtSignature": SKIP_SIGNATURE,
        },
        {"functionCall": {"name": "get_weather", "args": {"location": "Oslo"}, "id": "call_def"}},
    ]
    assert [p["functionResponse"]["id"] for p in contents[2]["parts"]] == ["call_abc", "call_def"]
    named = Message(Role.TOOL, "ok", name="lookup", tool_call_id="unknown")
    assert body_of(_req(allm.user("x"), named))["contents"][1]["parts"][0]["functionResponse"] == {
        "name": "lookup",
        "response": {"output": "ok"},
        "id": "unknown",
    }


def test_thought_signatures_round_trip_on_the_text_part(driver: Driver) -> None:
    """A thinking answer's signature (on its first text part) is echoed on the answer's text part;
    the thought summaries themselves are not sent back."""
    case = load("gemini", "thinking_stream")
    first = driver.generate(
        engine_for(case, "bytewise"), request_from_wire(case.request["body"]), api_key=KEY
    )
    signature = case.expect["thought_signatures"][0]
    assert first.metadata["reasoning_blocks"] == (
        {"text": case.expect["reasoning_text"], "signature": signature, "id": TEXT_SIGNATURE_ID},
    )
    assert first.message is not None
    assert first.message.metadata["reasoning_blocks"] == first.metadata["reasoning_blocks"]
    # What the chat loop stores, after a JSON round trip of the thread.
    assistant = allm.from_json(
        allm.to_json(
            Message(
                Role.ASSISTANT,
                first.output_text or "",
                metadata={"reasoning_blocks": first.metadata["reasoning_blocks"]},
            )
        )
    )
    body = body_of(
        _req(allm.user("What is the capital of Australia?"), assistant, allm.user("And of Canada?"))
    )
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"text": case.expect["output_text"], "thoughtSignature": signature}],
    }


def test_thought_part_signatures_and_foreign_blocks() -> None:
    blocks = (
        {"text": "planning", "signature": "sig-thought", "id": THOUGHT_SIGNATURE_ID},
        {"text": "claude thinking", "signature": "anthropic-sig", "id": "thinking"},
        {"text": "", "signature": "sig-text", "id": TEXT_SIGNATURE_ID},
        {"text": "no signature", "signature": None, "id": "gemini:thought"},
    )
    message = Message(Role.ASSISTANT, "", tool_calls=(), metadata={"reasoning_blocks": blocks})
    parts = body_of(_req(allm.user("x"), message))["contents"][1]["parts"]
    assert parts == [
        {"text": "planning", "thought": True, "thoughtSignature": "sig-thought"},
        {"text": "", "thoughtSignature": "sig-text"},
    ]
    explicit = Message(Role.ASSISTANT, "Hi", metadata={"thought_signature": "sig-explicit"})
    assert body_of(_req(allm.user("x"), explicit))["contents"][1]["parts"] == [
        {"text": "Hi", "thoughtSignature": "sig-explicit"}
    ]
    empty = Message(Role.ASSISTANT, "")
    assert [
        c["role"] for c in body_of(_req(allm.user("x"), empty, allm.user("y")))["contents"]
    ] == ["user", "user"]


def test_trailing_empty_text_signature_round_trip() -> None:
    # A signature on an empty text part (the Gemini 3 trailing chunk) is kept as its own part.
    body = (
        b'data: {"candidates": [{"content": {"parts": [{"text": "Done."}],"role": "model"},"index": 0}],"responseId": "r1"}\r\n\r\n'
        b'data: {"candidates": [{"content": {"parts": [{"text": "","thoughtSignature": "sig-end"}],"role": "model"},"finishReason": "STOP","index": 0}],"responseId": "r1"}\r\n\r\n'
    )
    recorder = Recorder((200, SSE, body))
    response = allm.generate(recorder.engine(), [allm.user("x")], api_key=KEY)
    assert response.text == "Done."
    assert response.metadata["reasoning_blocks"] == (
        {"text": "", "signature": "sig-end", "id": TEXT_SIGNATURE_ID},
    )
    message = Message(
        Role.ASSISTANT,
        response.text,
        metadata={"reasoning_blocks": response.metadata["reasoning_blocks"]},
    )
    assert body_of(_req(allm.user("x"), message))["contents"][1]["parts"] == [
        {"text": "Done.", "thoughtSignature": "sig-end"}
    ]


def _iter_requests(recorder: Recorder) -> Iterator[dict[str, Any]]:
    for request in recorder.requests:
        yield json.loads(request.content)


def test_the_same_body_for_both_endpoints(driver: Driver) -> None:
    recorder = Recorder(answer("text_stream"), answer("text_nonstream"))
    request = _req(
        allm.system("s"), allm.user("hi"), max_tokens=10, tools=[WEATHER], tool_choice="none"
    )
    driver.generate(recorder.engine(), request, api_key=KEY)
    driver.generate(recorder.engine(), request, api_key=KEY, streaming=False)
    first, second = _iter_requests(recorder)
    assert first == second
    assert str(recorder.requests[0].url).endswith(":streamGenerateContent?alt=sse")
    assert str(recorder.requests[1].url).endswith(":generateContent")
    assert is_subset({"generationConfig": {"maxOutputTokens": 10}}, first) == []


def test_small_builder_edges() -> None:
    assert sanitize_schema("not a schema") == "not a schema"
    assert sanitize_schema({"anyOf": "bad", "items": [1]}) == {"anyOf": "bad", "items": [1]}
    empty = allm.Tool("ping", "Ping.", {})
    body = body_of(
        _req(allm.user("x"), tools=[empty], tool_choice={"type": "tool", "name": "ping"}),
        top_p=None,
        response_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"a": {"type": "string"}},
        },
        stream=True,
    )
    assert body["tools"] == [{"functionDeclarations": [{"name": "ping", "description": "Ping."}]}]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["ping"]}
    }
    assert body["generationConfig"] == {
        "responseSchema": {"type": "object", "properties": {"a": {"type": "string"}}}
    }
    assert "toolConfig" not in body_of(
        _req(allm.user("x"), tools=[empty], tool_choice=("tool", ""))
    )
    thread = [
        allm.user("x"),
        Message(
            Role.ASSISTANT,
            "",
            tool_calls=(ToolCall("c1", "ping", {}, None, {"synthetic_id": True}),),
            metadata={
                "reasoning_blocks": ("not a block", {"signature": "", "id": TEXT_SIGNATURE_ID})
            },
        ),
        allm.tool_result("c1", "{not json"),
    ]
    contents = body_of(_req(*thread))["contents"]
    # A synthesized id is never sent, and an adapter-made call gets no placeholder signature.
    assert contents[1]["parts"] == [{"functionCall": {"name": "ping", "args": {}}}]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "ping", "response": {"output": "{not json"}}}
    ]
