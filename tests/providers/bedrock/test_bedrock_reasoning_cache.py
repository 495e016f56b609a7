"""W1 on Bedrock: ``reasoning=`` as Claude's ``thinking`` or Nova 2's ``reasoningConfig`` in
``additionalModelRequestFields``, and prompt caching as ``cachePoint`` blocks, each checked in the
body sent (Converse's spelling) or refused before any I/O (the transport never called)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm.data.messages import Message, Role, TextPart
from allm.errors import ValidationError
from allm.providers.bedrock.models import caching, claude_name, is_nova_2

from .cases import STREAM_HEADERS, by_name
from .support import adapter

WHOLE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
}
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
OPUS_47 = "global.anthropic.claude-opus-4-7-v1:0"
NOVA_2 = "us.amazon.nova-2-lite-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
OTHERS = [LLAMA, "mistral.mistral-large-2407-v1:0", "amazon.titan-text-premier-v1:0", NOVA_PRO]
OTHERS.append("cohere.command-r-plus-v1:0")
WEATHER = allm.Tool("get_weather", "Weather.", {"type": "object", "properties": {}})
TIME = allm.Tool("get_time", "Time.", {"type": "object", "properties": {}})
POINT = {"cachePoint": {"type": "default"}}
LONG_POINT = {"cachePoint": {"type": "default", "ttl": "1h"}}


class Wire:
    """A mock Converse: records each body and answers with one whole body or a stream."""

    def __init__(self, stream: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.stream = stream

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        if self.stream:
            transcript = by_name("text_stream")
            return httpx.Response(200, headers=STREAM_HEADERS, content=transcript.response)
        return httpx.Response(200, json=WHOLE)

    def engine(self, model: str) -> allm.Engine:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return allm.Engine(
            adapter=adapter(), model=model, adapter_opts={"http_client": client}, retry=False
        )


def sent(model: str, messages: Any = None, **opts: Any) -> tuple[dict[str, Any], allm.Response]:
    wire = Wire()
    response = allm.generate(
        wire.engine(model), messages or [allm.user("hi")], streaming=False, api_key="k", **opts
    )
    assert response.text == "ok"
    return wire.bodies[0], response


def refused(model: str, messages: Any = None, **opts: Any) -> Any:
    wire = Wire()
    with pytest.raises(ValidationError) as caught:
        allm.generate(
            wire.engine(model), messages or [allm.user("hi")], streaming=False, api_key="k", **opts
        )
    assert wire.bodies == []  # raised before any I/O
    assert caught.value.reason == "invalid_request"
    return caught.value.errors


# -- the model table ------------------------------------------------------------------------------


def test_model_ids_and_profiles_name_their_family() -> None:
    assert claude_name(SONNET_45) == "claude-sonnet-4-5-20250929-v1:0"
    assert claude_name("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-x") == (
        "claude-3-7-x"
    )
    assert claude_name(NOVA_2) is None and claude_name("anthropicxclaude-3") is None
    assert is_nova_2(NOVA_2) and is_nova_2("amazon.nova-2-lite-v1:0")
    assert not is_nova_2(NOVA_PRO) and not is_nova_2(SONNET_45)
    assert caching(SONNET_45) is not None and caching(SONNET_45).long  # type: ignore[union-attr]
    assert caching(SONNET_37) is not None and not caching(SONNET_37).long  # type: ignore[union-attr]
    assert caching(NOVA_PRO) is not None and not caching(NOVA_PRO).tools  # type: ignore[union-attr]
    assert caching("anthropic.claude-3-haiku-20240307-v1:0") is None
    assert caching(LLAMA) is None


# -- reasoning on Claude --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 1024), ("low", 2048), ("medium", 8192), ("high", 16384), ("xhigh", 32768)],
)
@pytest.mark.parametrize("model", [SONNET_45, SONNET_37, "anthropic.claude-opus-4-1-20250805-v1:0"])
def test_claude_effort_becomes_thinking_with_the_anthropic_budget(
    model: str, effort: str, budget: int
) -> None:
    body, response = sent(model, reasoning=effort)
    thinking = {"type": "enabled", "budget_tokens": budget}
    assert body["additionalModelRequestFields"] == {"thinking": thinking}
    assert body["inferenceConfig"] == {"maxTokens": budget + 1024}  # raised above the budget
    assert response.metadata["reasoning_sent"] == {
        "additionalModelRequestFields": {"thinking": thinking},
        "inferenceConfig": {"maxTokens": budget + 1024},
    }


def test_claude_keeps_the_callers_max_tokens_above_the_budget() -> None:
    body, response = sent(SONNET_45, reasoning=allm.Reasoning(budget_tokens=3000), max_tokens=5000)
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 3000
    assert body["inferenceConfig"] == {"maxTokens": 5000}
    assert "inferenceConfig" not in response.metadata["reasoning_sent"]


def test_claude_refuses_a_max_tokens_not_above_the_budget_and_what_thinking_forbids() -> None:
    errors = refused(SONNET_45, reasoning="high", max_tokens=4000, temperature=0.5, top_p=0.5)
    assert (("max_tokens",), "below_thinking_budget") in errors
    assert (("temperature",), "unsupported_option") in errors
    assert (("top_p",), "unsupported_option") in errors
    errors = refused(SONNET_45, reasoning="low", tools=[WEATHER], tool_choice="required")
    assert errors == ((("tool_choice",), "unsupported_option"),)
    errors = refused(SONNET_45, reasoning=allm.Reasoning(budget_tokens=500))
    assert errors == ((("reasoning", "budget_tokens"), "out_of_range"),)


def test_claude_none_disables_thinking() -> None:
    body, response = sent(SONNET_45, reasoning="none")
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "disabled"}}
    assert "inferenceConfig" not in body
    assert response.metadata["reasoning_sent"] == {
        "additionalModelRequestFields": {"thinking": {"type": "disabled"}}
    }


def test_an_adaptive_only_claude_gets_adaptive_thinking_and_an_effort() -> None:
    body, _ = sent(OPUS_47, reasoning="xhigh")
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "max"},
    }
    errors = refused(OPUS_47, reasoning=allm.Reasoning(budget_tokens=4096))
    assert errors == ((("reasoning", "budget_tokens"), "unsupported_option"),)


def test_claude_refuses_a_summary_on_the_field_and_the_alias() -> None:
    errors = refused(SONNET_45, reasoning=allm.Reasoning(effort="low", summary="auto"))
    assert errors == ((("reasoning", "summary"), "unsupported_option"),)
    errors = refused(SONNET_45, reasoning_summary="auto")
    assert errors == ((("reasoning_summary",), "unsupported_option"),)


def test_the_effort_alias_takes_the_same_mapping_and_never_lands_raw() -> None:
    body, response = sent(SONNET_45, reasoning_effort="low")
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert response.metadata["reasoning_sent"]["additionalModelRequestFields"]["thinking"]


@pytest.mark.parametrize("model", [SONNET_45, NOVA_2, LLAMA])
def test_verbosity_is_refused_everywhere_on_bedrock(model: str) -> None:
    assert refused(model, verbosity="low") == ((("verbosity",), "unsupported_option"),)


def test_a_raw_thinking_option_still_goes_and_the_neutral_field_wins_over_it() -> None:
    raw = {"type": "enabled", "budget_tokens": 4000, "display": "summarized"}
    request = allm.request([allm.user("hi")], max_tokens=20000, options={"thinking": raw})
    body, response = sent(SONNET_45, request)
    assert body["additionalModelRequestFields"] == {"thinking": raw}
    assert "reasoning_sent" not in response.metadata
    body, _ = sent(SONNET_45, request, reasoning="high")
    assert body["additionalModelRequestFields"]["thinking"] == {
        "type": "enabled",
        "budget_tokens": 16384,
        "display": "summarized",  # a key the neutral field does not set is kept
    }


def test_provider_options_are_merged_last_as_written() -> None:
    wire_override = {"additionalModelRequestFields": {"thinking": {"budget_tokens": 5000}}}
    body, _ = sent(SONNET_45, reasoning="high", provider_options={"bedrock": wire_override})
    assert body["additionalModelRequestFields"]["thinking"] == {
        "type": "enabled",
        "budget_tokens": 5000,
    }


def test_a_stream_records_what_was_sent_too() -> None:
    wire = Wire(stream=True)
    with allm.stream_generate(
        wire.engine(SONNET_45), [allm.user("hi")], reasoning="low", api_key="k"
    ) as stream:
        response = stream.collect()
    assert response.metadata["reasoning_sent"]["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert wire.bodies[0]["inferenceConfig"]["maxTokens"] == 2048 + 1024


# -- reasoning on Nova 2 and the rest -------------------------------------------------------------


@pytest.mark.parametrize(
    ("effort", "config"),
    [
        ("minimal", {"type": "enabled", "maxReasoningEffort": "low"}),
        ("low", {"type": "enabled", "maxReasoningEffort": "low"}),
        ("medium", {"type": "enabled", "maxReasoningEffort": "medium"}),
        ("high", {"type": "enabled", "maxReasoningEffort": "high"}),
        ("xhigh", {"type": "enabled", "maxReasoningEffort": "high"}),
        ("none", {"type": "disabled"}),
    ],
)
@pytest.mark.parametrize("model", [NOVA_2, "amazon.nova-2-lite-v1:0"])
def test_nova_2_effort_becomes_reasoning_config(model: str, effort: str, config: Any) -> None:
    body, response = sent(model, reasoning=effort)
    assert body["additionalModelRequestFields"] == {"reasoningConfig": config}
    assert "inferenceConfig" not in body
    assert response.metadata["reasoning_sent"] == {
        "additionalModelRequestFields": {"reasoningConfig": config}
    }


def test_nova_2_takes_the_alias_and_refuses_a_budget_and_a_summary() -> None:
    body, _ = sent(NOVA_2, reasoning_effort="medium")
    assert body["additionalModelRequestFields"]["reasoningConfig"]["maxReasoningEffort"] == "medium"
    errors = refused(NOVA_2, reasoning=allm.Reasoning(effort="low", budget_tokens=2048))
    assert errors == ((("reasoning", "budget_tokens"), "unsupported_option"),)
    errors = refused(NOVA_2, reasoning=allm.Reasoning(summary="auto"))
    assert errors == ((("reasoning", "summary"), "unsupported_option"),)


@pytest.mark.parametrize("model", OTHERS)
def test_a_model_without_reasoning_refuses_it(model: str) -> None:
    assert refused(model, reasoning="high") == ((("reasoning", "effort"), "unsupported_option"),)
    assert refused(model, reasoning_effort="low") == (
        (("reasoning_effort",), "unsupported_option"),
    )
    errors = refused(model, reasoning=allm.Reasoning(budget_tokens=2048))
    assert errors == ((("reasoning", "budget_tokens"), "unsupported_option"),)
    body, response = sent(model, reasoning="none")  # asks for nothing: nothing sent
    assert "additionalModelRequestFields" not in body
    assert "reasoning_sent" not in response.metadata


# -- prompt caching -------------------------------------------------------------------------------


def test_a_cache_point_follows_the_block_before_the_marker() -> None:
    messages = [
        Message(
            Role.SYSTEM, (TextPart("rules"), TextPart("more"), allm.CachePoint(), TextPart("x"))
        ),
        allm.user(["document", allm.CachePoint(), "question"]),
    ]
    body, _ = sent(SONNET_37, messages)
    assert body["system"] == [{"text": "rules\nmore"}, POINT, {"text": "x"}]
    assert body["messages"][0]["content"] == [{"text": "document"}, POINT, {"text": "question"}]


def test_a_marker_with_nothing_before_it_sends_nothing() -> None:
    body, _ = sent(SONNET_37, [allm.user([allm.CachePoint(), "question"])])
    assert body["messages"][0]["content"] == [{"text": "question"}]


def test_a_long_retention_is_a_one_hour_ttl_where_the_model_has_it() -> None:
    body, _ = sent(SONNET_45, [allm.user(["doc", allm.CachePoint(retention="long"), "q"])])
    assert body["messages"][0]["content"][1] == LONG_POINT
    errors = refused(SONNET_37, [allm.user(["doc", allm.CachePoint(retention="long"), "q"])])
    assert errors == ((("messages", 0, "content", 1, "retention"), "unsupported_option"),)
    errors = refused(SONNET_37, prompt_cache=allm.PromptCache(retention="long"))
    assert errors == ((("prompt_cache", "retention"), "unsupported_option"),)


def test_assistant_and_tool_messages_take_a_marker_at_their_end() -> None:
    call = allm.ToolCall("t1", "get_weather", {})
    messages = [
        allm.user("weather?"),
        Message(Role.ASSISTANT, (TextPart("checking"), allm.CachePoint()), tool_calls=(call,)),
        Message(Role.TOOL, (TextPart("sunny"), allm.CachePoint()), tool_call_id="t1"),
    ]
    body, _ = sent(SONNET_37, messages, tools=[WEATHER])
    assistant, results = body["messages"][1]["content"], body["messages"][2]["content"]
    assert assistant[-1] == POINT and "toolUse" in assistant[-2]
    assert results[0]["toolResult"]["content"] == [{"text": "sunny"}]
    assert results[1] == POINT  # a toolResult cannot hold one: it follows


def test_a_cached_tool_puts_a_cache_point_after_it() -> None:
    cached = allm.Tool("get_weather", "Weather.", {"type": "object"}, cache=True)
    body, _ = sent(SONNET_37, tools=[cached, TIME])
    tools = body["toolConfig"]["tools"]
    assert [next(iter(entry)) for entry in tools] == ["toolSpec", "cachePoint", "toolSpec"]
    assert tools[1] == POINT


def test_auto_marks_the_tools_the_system_prompt_and_the_last_user_message() -> None:
    messages = [allm.system("rules"), allm.user("one"), allm.assistant("two"), allm.user("three")]
    body, _ = sent(SONNET_37, messages, tools=[WEATHER], prompt_cache="auto")
    assert body["toolConfig"]["tools"][-1] == POINT
    assert body["system"] == [{"text": "rules"}, POINT]
    assert body["messages"][0]["content"] == [{"text": "one"}]
    assert body["messages"][2]["content"] == [{"text": "three"}, POINT]
    body, _ = sent(SONNET_45, messages, prompt_cache=allm.PromptCache(retention="long"))
    assert body["system"][-1] == LONG_POINT and body["messages"][2]["content"][-1] == LONG_POINT


def test_auto_on_nova_leaves_the_tools_unmarked() -> None:
    body, _ = sent(NOVA_PRO, [allm.system("rules"), allm.user("q")], tools=[WEATHER])
    assert POINT not in body["toolConfig"]["tools"]
    body, _ = sent(
        NOVA_PRO, [allm.system("rules"), allm.user("q")], tools=[WEATHER], prompt_cache="auto"
    )
    assert POINT not in body["toolConfig"]["tools"]
    assert body["system"][-1] == POINT and body["messages"][0]["content"][-1] == POINT


def test_nova_refuses_a_cached_tool() -> None:
    cached = allm.Tool("get_weather", "Weather.", {"type": "object"}, cache=True)
    assert refused(NOVA_PRO, tools=[TIME, cached]) == (
        (("tools", 1, "cache"), "unsupported_option"),
    )


def test_more_than_four_cache_points_are_refused() -> None:
    marked = allm.user(["a", allm.CachePoint(), "b", allm.CachePoint(), "c", allm.CachePoint()])
    body, _ = sent(SONNET_37, [allm.system("rules"), marked])
    assert sum(block == POINT for block in body["messages"][0]["content"]) == 3
    errors = refused(
        SONNET_37, [allm.system("rules"), marked], tools=[WEATHER], prompt_cache="auto"
    )
    assert errors == ((("prompt_cache",), "too_many_cache_breakpoints"),)


def test_a_cache_key_is_refused() -> None:
    errors = refused(SONNET_37, prompt_cache=allm.PromptCache(key="tenant-7"))
    assert errors == ((("prompt_cache", "key"), "unsupported_option"),)


@pytest.mark.parametrize("model", [LLAMA, "anthropic.claude-3-haiku-20240307-v1:0"])
def test_a_model_without_prompt_caching_refuses_every_marker(model: str) -> None:
    cached = allm.Tool("get_weather", "Weather.", {"type": "object"}, cache=True)
    errors = refused(
        model,
        [allm.user(["doc", allm.CachePoint(), "q"])],
        tools=[cached],
        prompt_cache="auto",
    )
    assert set(errors) == {
        (("prompt_cache",), "unsupported_option"),
        (("tools", 0, "cache"), "unsupported_option"),
        (("messages", 0, "content", 1), "unsupported_option"),
    }


@given(st.lists(st.one_of(st.text(min_size=1, max_size=5), st.just(None)), min_size=1, max_size=8))
def test_markers_never_lose_or_reorder_text(parts: list[str | None]) -> None:
    """The text blocks are the text parts in order; a cachePoint stands after each marker that
    has a block before it."""
    from allm.providers.bedrock.request import user_content

    content = tuple(TextPart(p) if p is not None else allm.CachePoint() for p in parts)
    blocks = user_content(content)
    assert [b["text"] for b in blocks if "text" in b] == [p for p in parts if p is not None]
    first_text = next((i for i, p in enumerate(parts) if p is not None), len(parts))
    expected = sum(1 for i, p in enumerate(parts) if p is None and i > first_text)
    assert sum(1 for b in blocks if "cachePoint" in b) == expected


def test_the_async_call_sends_the_same_body_and_records_the_same() -> None:
    import asyncio

    wire = Wire()

    async def handle(request: httpx.Request) -> httpx.Response:
        return wire(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    engine = allm.Engine(
        adapter=adapter(), model=SONNET_45, adapter_opts={"async_http_client": client}, retry=False
    )
    messages = [allm.system("rules"), allm.user(["doc", allm.CachePoint(), "q"])]
    opts: dict[str, Any] = {"reasoning": "medium", "prompt_cache": "auto"}
    response = asyncio.run(allm.agenerate(engine, messages, streaming=False, api_key="k", **opts))
    body, sync_response = sent(SONNET_45, messages, **opts)
    assert wire.bodies == [body]
    assert response.metadata["reasoning_sent"] == sync_response.metadata["reasoning_sent"]
