"""``reasoning=`` and ``prompt_cache=`` on every wire: the body sent, ``reasoning_sent``, the
pre-flight refusals, and cache token usage read back (streamed and whole)."""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest

import allm
from allm.errors import ValidationError
from allm.providers import Anthropic, Gemini, OpenAI, OpenAICompatible
from allm.providers.presets import OpenRouter


def _sse(*events: Any, done: bool = False) -> bytes:
    out = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return out + (b"data: [DONE]\n\n" if done else b"")


_ANTHROPIC_MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "usage": {
        "input_tokens": 3,
        "output_tokens": 1,
        "cache_read_input_tokens": 5,
        "cache_creation_input_tokens": 7,
    },
}
_ANTHROPIC_STREAM = (
    b"event: message_start\ndata: "
    + json.dumps(
        {
            "type": "message_start",
            "message": {**_ANTHROPIC_MESSAGE, "content": [], "stop_reason": None},
        }
    ).encode()
    + b"\n\n"
    + b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"hi"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":1}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
_CHAT_USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 1,
    "total_tokens": 13,
    "prompt_tokens_details": {"cached_tokens": 5},
}
_CHAT_BODY = {
    "id": "c1",
    "object": "chat.completion",
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": _CHAT_USAGE,
}
_CHAT_STREAM = _sse(
    {"id": "c1", "object": "chat.completion.chunk", "model": "m",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "m",
     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": [],
     "usage": _CHAT_USAGE},
    done=True,
)  # fmt: skip
_RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "model": "gpt-5",
    "output": [
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "hi", "annotations": []}]}
    ],
    "usage": {"input_tokens": 12, "output_tokens": 1, "total_tokens": 13,
              "input_tokens_details": {"cached_tokens": 5}},
}  # fmt: skip
_RESPONSES_STREAM = _sse(
    {"type": "response.created", "response": {**_RESPONSE, "status": "in_progress", "output": []}},
    {"type": "response.output_item.added", "output_index": 0,
     "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}},
    {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
     "item_id": "msg_1", "delta": "hi"},
    {"type": "response.output_item.done", "output_index": 0, "item": _RESPONSE["output"][0]},
    {"type": "response.completed", "response": _RESPONSE},
)  # fmt: skip
_GEMINI = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}
    ],
    "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1,
                      "totalTokenCount": 13, "cachedContentTokenCount": 5},
    "modelVersion": "gemini-2.5-flash",
}  # fmt: skip


class Wire:
    """A recording MockTransport answering one provider's documented shapes."""

    def __init__(self, whole: Any, stream: bytes) -> None:
        self.whole, self.stream, self.bodies = whole, stream, []  # type: list[dict[str, Any]]

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        streaming = body.get("stream") is True or "streamGenerateContent" in str(request.url)
        if streaming:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, content=self.stream, headers=headers)
        return httpx.Response(200, json=self.whole)

    def engine(self, adapter: Any, model: str) -> allm.Engine:
        client = httpx.Client(transport=httpx.MockTransport(self.handler))
        opts: dict[str, Any] = {"http_client": client}
        if isinstance(adapter, OpenAICompatible):
            opts["base_url"] = "http://127.0.0.1:9/v1"
        return allm.Engine(adapter=adapter, model=model, adapter_opts=opts)


def wire_for(name: str) -> tuple[Wire, Any]:
    if name == "anthropic":
        return Wire(_ANTHROPIC_MESSAGE, _ANTHROPIC_STREAM), Anthropic()
    if name == "gemini":
        return Wire(_GEMINI, _sse(_GEMINI)), Gemini()
    if name == "responses":
        return Wire(_RESPONSE, _RESPONSES_STREAM), OpenAI(endpoint="responses")
    if name == "openrouter":
        return Wire(_CHAT_BODY, _CHAT_STREAM), OpenRouter()
    if name == "compatible":
        return Wire(_CHAT_BODY, _CHAT_STREAM), OpenAICompatible()
    return Wire(_CHAT_BODY, _CHAT_STREAM), OpenAI(endpoint="chat_completions")


def call(name: str, model: str, *, streaming: bool = True, messages: Any = None, **opts: Any):
    wire, adapter = wire_for(name)
    engine = wire.engine(adapter, model)
    messages = messages or [allm.user("hi")]
    response = allm.generate(engine, messages, api_key="k", streaming=streaming, **opts)
    return response, wire.bodies[-1]


# -- reasoning: the body on each wire ---------------------------------------------------------------

CASES = [
    ("chat", "gpt-5", "high", {"reasoning_effort": "high"}),
    ("responses", "gpt-5", allm.Reasoning(effort="low", summary="auto"),
     {"reasoning": {"effort": "low", "summary": "auto"}}),
    ("compatible", "qwen3", "medium", {"reasoning_effort": "medium"}),
    ("openrouter", "openai/gpt-5", "minimal", {"reasoning": {"effort": "minimal"}}),
    ("anthropic", "claude-sonnet-4-5", "low",
     {"thinking": {"type": "enabled", "budget_tokens": 2048}, "max_tokens": 3072}),
    ("anthropic", "claude-sonnet-4-5", allm.Reasoning(budget_tokens=5000),
     {"thinking": {"type": "enabled", "budget_tokens": 5000}, "max_tokens": 6024}),
    ("anthropic", "claude-sonnet-4-5", "none", {"thinking": {"type": "disabled"}}),
    ("anthropic", "claude-opus-4-7", "xhigh",
     {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}),
    ("gemini", "gemini-3-pro-preview", allm.Reasoning(effort="low", summary="auto"),
     {"generationConfig": {"thinkingConfig": {"thinkingLevel": "low", "includeThoughts": True}}}),
    ("gemini", "gemini-2.5-flash", "high",
     {"generationConfig": {"thinkingConfig": {"thinkingBudget": 16384}}}),
    ("gemini", "gemini-2.5-flash", "none",
     {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}),
]  # fmt: skip


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize(("name", "model", "reasoning", "expected"), CASES)
def test_reasoning_reaches_each_wire_and_is_recorded(
    name: str, model: str, reasoning: Any, expected: dict[str, Any], streaming: bool
) -> None:
    response, body = call(name, model, streaming=streaming, reasoning=reasoning)
    assert response.finish_reason == "stop", response.metadata
    assert response.metadata["reasoning_sent"] == expected
    for key, value in expected.items():
        if key == "generationConfig":
            assert body[key]["thinkingConfig"] == value["thinkingConfig"]
        else:
            assert body[key] == value
    assert "reasoning_effort" not in body or name in ("chat", "compatible")


def test_aliases_are_still_accepted_and_anthropic_never_receives_them() -> None:
    response, body = call(
        "anthropic", "claude-sonnet-4-5", reasoning_effort="medium", reasoning_summary="auto"
    )
    assert "reasoning_effort" not in body and "reasoning_summary" not in body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert response.metadata["reasoning_sent"]["thinking"]["budget_tokens"] == 8192
    _, body = call("responses", "gpt-5", reasoning_effort="high", reasoning_summary="detailed")
    assert body["reasoning"] == {"effort": "high", "summary": "detailed"}


def test_the_reasoning_field_outranks_the_alias_and_a_request_field_works() -> None:
    request = allm.request([allm.user("hi")], reasoning=allm.Reasoning(effort="low"))
    assert request.reasoning == allm.Reasoning(effort="low")
    assert allm.request([allm.user("hi")], reasoning="high").reasoning == allm.Reasoning("high")
    _, body = call("chat", "gpt-5", messages=request.messages, reasoning="low",
                   reasoning_effort="high")  # fmt: skip
    assert body["reasoning_effort"] == "low"


def test_anthropic_keeps_a_callers_max_tokens_above_the_budget() -> None:
    response, body = call("anthropic", "claude-sonnet-4-5", reasoning="low", max_tokens=4000)
    assert body["max_tokens"] == 4000
    assert response.metadata["reasoning_sent"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }


def test_no_reasoning_means_no_metadata_entry() -> None:
    for name in ("anthropic", "chat", "gemini", "responses"):
        response, _ = call(name, "gemini-2.5-flash" if name == "gemini" else "m")
        assert "reasoning_sent" not in response.metadata


REFUSED = [
    ("anthropic", "claude-sonnet-4-5", {"reasoning": "low", "max_tokens": 1000}, ("max_tokens",),
     "below_thinking_budget"),
    ("anthropic", "claude-sonnet-4-5", {"reasoning": "low", "temperature": 0.2}, ("temperature",),
     "unsupported_option"),
    ("anthropic", "claude-sonnet-4-5", {"reasoning": "low", "top_p": 0.5}, ("top_p",),
     "unsupported_option"),
    ("anthropic", "claude-sonnet-4-5", {"reasoning": "low", "tool_choice": "required",
     "tools": [allm.Tool("t", "d", {"type": "object"})]}, ("tool_choice",), "unsupported_option"),
    ("anthropic", "claude-sonnet-4-5", {"reasoning": allm.Reasoning(budget_tokens=100)},
     ("reasoning", "budget_tokens"), "out_of_range"),
    ("anthropic", "claude-opus-4-7", {"reasoning": allm.Reasoning(budget_tokens=4000)},
     ("reasoning", "budget_tokens"), "unsupported_option"),
    ("chat", "gpt-5", {"reasoning": allm.Reasoning(budget_tokens=4000)},
     ("reasoning", "budget_tokens"), "unsupported_option"),
    ("chat", "gpt-5", {"reasoning": allm.Reasoning(effort="low", summary="auto")},
     ("reasoning", "summary"), "unsupported_option"),
    ("responses", "gpt-5", {"reasoning": allm.Reasoning(budget_tokens=4000)},
     ("reasoning", "budget_tokens"), "unsupported_option"),
    ("gemini", "gemini-3-pro-preview", {"reasoning": "none"}, ("reasoning", "effort"),
     "unsupported_option"),
    ("gemini", "gemini-3-pro-preview", {"reasoning": "xhigh"}, ("reasoning", "effort"),
     "unsupported_option"),
    ("chat", "gpt-5", {"reasoning": "extreme"}, ("reasoning", "effort"), "unknown_value"),
    ("chat", "gpt-5", {"reasoning": allm.Reasoning(summary="long")}, ("reasoning", "summary"),
     "unknown_value"),
    ("chat", "gpt-5", {"reasoning": allm.Reasoning(budget_tokens=-1)},
     ("reasoning", "budget_tokens"), "out_of_range"),
    ("chat", "gpt-5", {"reasoning": allm.Reasoning(budget_tokens="9")},  # type: ignore[arg-type]
     ("reasoning", "budget_tokens"), "invalid_type"),
    ("chat", "gpt-5", {"reasoning": 3}, ("reasoning",), "invalid_type"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "model", "opts", "path", "reason"), REFUSED)
def test_what_a_wire_cannot_express_is_refused_before_any_io(
    name: str, model: str, opts: dict[str, Any], path: tuple[Any, ...], reason: str
) -> None:
    wire, adapter = wire_for(name)
    engine = wire.engine(adapter, model)
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(engine, [allm.user("hi")], api_key="k", **opts)
    assert (path, reason) in info.value.errors
    assert wire.bodies == []


# -- prompt caching ----------------------------------------------------------------------------------


def _cached_messages() -> list[allm.Message]:
    return [
        allm.system("be brief"),
        allm.user(["long document", allm.CachePoint(), "question"]),
    ]


def test_a_cache_point_marks_the_block_before_it_on_anthropic_and_keeps_parts_apart() -> None:
    _, body = call("anthropic", "claude-sonnet-4-5", messages=_cached_messages())
    assert body["system"] == "be brief"
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "long document", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "question"},
    ]
    messages = [allm.user(["doc", allm.CachePoint(retention="long"), "q"])]
    _, body = call("anthropic", "claude-sonnet-4-5", messages=messages)
    assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_auto_marks_tools_system_and_the_last_user_message_on_anthropic() -> None:
    tools = [allm.Tool("a", "d", {"type": "object"}), allm.Tool("b", "d", {"type": "object"})]
    messages = [allm.system("sys"), allm.user("first"), allm.assistant("ok"), allm.user("last")]
    _, body = call("anthropic", "claude-sonnet-4-5", messages=messages, tools=tools,
                   prompt_cache="auto")  # fmt: skip
    ephemeral = {"type": "ephemeral"}
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][1]["cache_control"] == ephemeral
    assert body["system"] == [{"type": "text", "text": "sys", "cache_control": ephemeral}]
    assert body["messages"][0]["content"] == "first"
    assert body["messages"][-1]["content"] == [
        {"type": "text", "text": "last", "cache_control": ephemeral}
    ]
    _, body = call("anthropic", "claude-sonnet-4-5", messages=messages,
                   prompt_cache=allm.PromptCache(retention="long"))  # fmt: skip
    assert body["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_a_cached_tool_and_markers_in_system_tool_and_assistant_turns_on_anthropic() -> None:
    tools = [allm.Tool("a", "d", {"type": "object"}, cache=True), allm.Tool("b", "d", {})]
    call_ = allm.ToolCall("c1", "a", {})
    messages = [
        allm.Message("system", (allm.TextPart("rules"), allm.CachePoint(), allm.TextPart("more"))),
        allm.user("go"),
        allm.Message(
            "assistant", (allm.TextPart("calling"), allm.CachePoint()), tool_calls=(call_,)
        ),
        allm.Message("tool", (allm.TextPart("result"), allm.CachePoint()), tool_call_id="c1"),
    ]
    _, body = call("anthropic", "claude-sonnet-4-5", messages=messages, tools=tools)
    assert body["tools"][0]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in body["tools"][1]
    assert body["system"][0] == {
        "type": "text",
        "text": "rules",
        "cache_control": {"type": "ephemeral"},
    }
    assert body["system"][1] == {"type": "text", "text": "more"}
    assert body["messages"][1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    tool_block = body["messages"][2]["content"][0]
    assert tool_block["content"][0]["cache_control"] == {"type": "ephemeral"}


def test_more_than_four_breakpoints_and_a_key_are_refused_on_anthropic() -> None:
    parts: list[Any] = []
    for index in range(5):
        parts += [f"part {index}", allm.CachePoint()]
    wire, adapter = wire_for("anthropic")
    engine = wire.engine(adapter, "claude-sonnet-4-5")
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(engine, [allm.user(parts)], api_key="k")
    assert (("prompt_cache",), "too_many_cache_breakpoints") in info.value.errors
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(
            engine, [allm.user("hi")], api_key="k", prompt_cache=allm.PromptCache(key="k1")
        )
    assert (("prompt_cache", "key"), "unsupported_option") in info.value.errors
    assert wire.bodies == []


@pytest.mark.parametrize("name", ["chat", "responses"])
def test_openai_sends_the_cache_key_and_the_long_retention(name: str) -> None:
    cache = allm.PromptCache(key="tenant-7", retention="long")
    _, body = call(name, "gpt-5", messages=_cached_messages(), prompt_cache=cache)
    assert body["prompt_cache_key"] == "tenant-7"
    assert body["prompt_cache_retention"] == "24h"
    _, body = call(name, "gpt-5", messages=_cached_messages(), prompt_cache="auto")
    assert "prompt_cache_key" not in body and "prompt_cache_retention" not in body
    assert "CachePoint" not in json.dumps(body)


def test_gemini_caches_implicitly_markers_accepted_nothing_sent() -> None:
    _, body = call("gemini", "gemini-2.5-flash", messages=_cached_messages(), prompt_cache="auto")
    assert body["contents"][0]["parts"] == [{"text": "long document"}, {"text": "question"}]
    assert "cache" not in json.dumps(body).lower()


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("name", ["anthropic", "chat", "responses", "gemini"])
def test_cache_reads_and_writes_land_in_usage(name: str, streaming: bool) -> None:
    model = "gemini-2.5-flash" if name == "gemini" else "m"
    response, _ = call(name, model, streaming=streaming)
    assert response.usage.cached_input_tokens == 5
    if name == "anthropic":
        assert response.usage.cache_write_input_tokens == 7
        assert response.usage.input_tokens == 15
    else:
        assert response.usage.input_tokens == 12


def test_invalid_cache_values_are_refused() -> None:
    wire, adapter = wire_for("chat")
    engine = wire.engine(adapter, "gpt-5")
    bad = [allm.user(["a", allm.CachePoint(retention="forever"), "b"])]  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(engine, bad, api_key="k", prompt_cache="always")
    assert (("prompt_cache",), "unknown_value") in info.value.errors
    assert (("messages", 0, "content", 1, "retention"), "unknown_value") in info.value.errors
    with pytest.raises(ValidationError) as info:
        allm.stream_generate(
            engine, [allm.user("hi")], api_key="k",
            prompt_cache=allm.PromptCache(key="", retention="mid"),  # type: ignore[arg-type]
        )  # fmt: skip
    assert (("prompt_cache", "retention"), "unknown_value") in info.value.errors
    assert (("prompt_cache", "key"), "invalid_type") in info.value.errors
    with pytest.raises(TypeError):
        allm.Tool("t", "d", {}, cache="yes")  # type: ignore[arg-type]


# -- the values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        allm.Reasoning(effort="high", budget_tokens=10, summary="auto"),
        allm.PromptCache(key="k", retention="long"),
        allm.CachePoint(retention="long"),
        allm.Tool("t", "d", {}, cache=True),
        allm.request(_cached_messages(), reasoning="low", prompt_cache=allm.PromptCache()),
    ],
)
def test_new_values_round_trip_through_json_and_pickle(value: Any) -> None:
    assert allm.from_json(allm.to_json(value)) == value
    assert pickle.loads(pickle.dumps(value)) == value


# -- the catalog pre-flight -------------------------------------------------------------------------


def test_the_catalog_refuses_reasoning_and_caching_a_model_lacks() -> None:
    from allm.catalog import BundledCatalog, check_capabilities
    from allm.data.models import ModelRef

    lacking = ModelRef("openai", "m", {"reasoning": False, "prompt_caching": False})
    request = allm.request(
        [allm.user(["a", allm.CachePoint(), "b"])], reasoning="low", prompt_cache="auto"
    )
    with pytest.raises(ValidationError) as info:
        check_capabilities(request, lacking)
    assert info.value.reason == "unsupported_capability"
    assert set(info.value.errors) == {
        (("reasoning",), "reasoning_disabled"),
        (("prompt_cache",), "prompt_caching_disabled"),
        (("messages", 0, "content"), "prompt_caching_disabled"),
    }
    check_capabilities(allm.request([allm.user("a")], reasoning="none"), lacking)
    check_capabilities(request, ModelRef("openai", "m", {}))  # unstated: never a reason
    # The bundled catalog says gpt-4o does not reason: the call raises before any I/O.
    wire, adapter = wire_for("chat")
    allm.configure(catalog=BundledCatalog())
    try:
        engine = wire.engine(adapter, "gpt-4o")
        with pytest.raises(ValidationError) as info:
            allm.stream_generate(engine, [allm.user("hi")], api_key="k", reasoning="high")
    finally:
        allm.configure(catalog=None)
    assert (("reasoning",), "reasoning_disabled") in info.value.errors
    assert wire.bodies == []


@pytest.mark.parametrize("streaming", [True, False])
def test_the_async_twin_records_the_same_reasoning_sent(streaming: bool) -> None:
    import asyncio

    wire, adapter = wire_for("anthropic")
    client = httpx.AsyncClient(transport=httpx.MockTransport(wire.handler))
    engine = allm.Engine(
        adapter=adapter, model="claude-sonnet-4-5", adapter_opts={"async_http_client": client}
    )

    async def run() -> allm.Response:
        try:
            return await allm.agenerate(
                engine, [allm.user("hi")], api_key="k", streaming=streaming, reasoning="high"
            )
        finally:
            await client.aclose()

    response = asyncio.run(run())
    sync_response, _ = call("anthropic", "claude-sonnet-4-5", streaming=streaming, reasoning="high")
    assert response.metadata["reasoning_sent"] == sync_response.metadata["reasoning_sent"]
    assert response.usage == sync_response.usage
    assert wire.bodies[-1]["thinking"] == {"type": "enabled", "budget_tokens": 16384}


def test_closing_a_stream_early_closes_the_stamped_plan() -> None:
    wire, adapter = wire_for("anthropic")
    engine = wire.engine(adapter, "claude-sonnet-4-5")
    with allm.stream_generate(engine, [allm.user("hi")], api_key="k", reasoning="low") as stream:
        first = next(iter(stream))
    assert first.type == "message_started"
    assert len(wire.bodies) == 1  # closed after one event; nothing resent
