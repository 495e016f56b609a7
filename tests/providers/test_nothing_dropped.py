"""W1 "nothing is dropped silently": each neutral field an adapter used to drop is now written in
the provider's spelling or refused before any I/O (the transport is never called)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm.errors import ValidationError

WEATHER = allm.Tool(
    "get_weather",
    "Weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CHAT_ANSWER = {
    "choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]
}
OLLAMA_ANSWER = {"message": {"role": "assistant", "content": "ok"}, "done": True}
GEMINI_ANSWER = {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}


def engine_for(adapter: str, model: str, answer: dict[str, Any], sent: list[Any]) -> allm.Engine:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    opts: dict[str, Any] = {"http_client": httpx.Client(transport=httpx.MockTransport(handle))}
    if adapter == "ollama":
        opts["base_url"] = "http://127.0.0.1:9"
    return allm.Engine(adapter=adapter, model=model, adapter_opts=opts, retry=False)


def refused(adapter: str, model: str, answer: dict[str, Any], **opts: Any) -> Any:
    sent: list[Any] = []
    engine = engine_for(adapter, model, answer, sent)
    with pytest.raises(ValidationError) as caught:
        allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k", **opts)
    assert sent == []  # raised before any I/O
    assert caught.value.reason == "invalid_request"
    return caught.value.errors


def sent_body(adapter: str, model: str, answer: dict[str, Any], **opts: Any) -> Any:
    sent: list[Any] = []
    engine = engine_for(adapter, model, answer, sent)
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k", **opts)
    assert response.text == "ok"
    return sent[0], response


# -- Ollama ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reasoning", "think"),
    [
        ("qwen3", "high", True),
        ("qwen3", "minimal", True),
        ("qwen3", "none", False),
        ("gpt-oss:20b", "low", "low"),
        ("gpt-oss:20b", "medium", "medium"),
        ("gpt-oss:20b", "xhigh", "high"),
        ("gpt-oss:20b", "none", False),
    ],
)
def test_ollama_reasoning_becomes_think(model: str, reasoning: str, think: Any) -> None:
    body, response = sent_body("ollama", model, OLLAMA_ANSWER, reasoning=reasoning)
    assert body["think"] == think
    assert response.metadata["reasoning_sent"] == {"think": think}


@pytest.mark.parametrize(
    ("opts", "path"),
    [
        ({"parallel_tool_calls": False, "tools": [WEATHER]}, ("parallel_tool_calls",)),
        ({"tool_choice": "required", "tools": [WEATHER]}, ("tool_choice",)),
        ({"tool_choice": "get_weather", "tools": [WEATHER]}, ("tool_choice",)),
        ({"reasoning": allm.Reasoning(budget_tokens=2048)}, ("reasoning", "budget_tokens")),
        ({"reasoning": allm.Reasoning(summary="auto")}, ("reasoning", "summary")),
    ],
)
def test_ollama_refuses_what_api_chat_cannot_express(opts: dict[str, Any], path: Any) -> None:
    errors = refused("ollama", "qwen3", OLLAMA_ANSWER, **opts)
    assert (path, "unsupported_option") in errors


def test_ollama_tool_choice_none_still_leaves_the_tools_out() -> None:
    body, _ = sent_body("ollama", "qwen3", OLLAMA_ANSWER, tool_choice="none", tools=[WEATHER])
    assert "tools" not in body and "think" not in body


# -- OpenAI Chat Completions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "path"),
    [
        ({"reasoning": "high"}, ("reasoning", "effort")),
        ({"reasoning_effort": "low"}, ("reasoning_effort",)),
        ({"reasoning_summary": "auto"}, ("reasoning_summary",)),
        ({"verbosity": "low"}, ("verbosity",)),
    ],
)
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini"])
def test_openai_chat_refuses_reasoning_a_model_cannot_take(
    model: str, opts: dict[str, Any], path: Any
) -> None:
    errors = refused("openai", model, CHAT_ANSWER, **opts)
    assert (path, "unsupported_option") in errors


def test_openai_chat_reasoning_summary_is_refused_on_a_reasoning_model_too() -> None:
    errors = refused(
        "openai", "gpt-5-mini", CHAT_ANSWER, reasoning_summary="auto", endpoint="chat_completions"
    )
    assert errors == ((("reasoning_summary",), "unsupported_option"),)


def test_openai_chat_none_asks_nothing_of_a_model_that_does_not_reason() -> None:
    body, response = sent_body("openai", "gpt-4o", CHAT_ANSWER, reasoning="none")
    assert "reasoning_effort" not in body
    assert "reasoning_sent" not in response.metadata


def test_openai_chat_sends_reasoning_effort_to_a_reasoning_model() -> None:
    body, response = sent_body(
        "openai", "o4-mini", CHAT_ANSWER, reasoning="high", endpoint="chat_completions"
    )
    assert body["reasoning_effort"] == "high"
    assert response.metadata["reasoning_sent"] == {"reasoning_effort": "high"}


# -- Mistral --------------------------------------------------------------------------------------


def test_mistral_sends_prompt_cache_key_and_refuses_a_long_retention() -> None:
    body, _ = sent_body(
        "mistral", "mistral-small-latest", CHAT_ANSWER, prompt_cache=allm.PromptCache(key="t-7")
    )
    assert body["prompt_cache_key"] == "t-7" and "prompt_cache_retention" not in body
    errors = refused(
        "mistral",
        "mistral-small-latest",
        CHAT_ANSWER,
        prompt_cache=allm.PromptCache(retention="long"),
    )
    assert errors == ((("prompt_cache", "retention"), "unsupported_option"),)


# -- Gemini ---------------------------------------------------------------------------------------


def test_gemini_takes_five_stop_sequences_and_refuses_a_sixth() -> None:
    five = ["a", "b", "c", "d", "e"]
    body, _ = sent_body("gemini", "gemini-2.5-flash", GEMINI_ANSWER, stop=five)
    assert body["generationConfig"]["stopSequences"] == five
    errors = refused("gemini", "gemini-2.5-flash", GEMINI_ANSWER, stop=[*five, "f"])
    assert errors == ((("stop",), "too_many_stop_sequences"),)


@pytest.mark.parametrize(
    ("opts", "sent"),
    [
        ({"reasoning": "high"}, "high"),
        ({"reasoning": "xhigh"}, "high"),
        ({"reasoning": "none"}, "none"),
        ({"reasoning_effort": "high"}, "high"),
    ],
)
def test_mistral_sends_the_two_efforts_its_reference_lists(opts: dict[str, Any], sent: str) -> None:
    body, response = sent_body("mistral", "mistral-small-latest", CHAT_ANSWER, **opts)
    assert body["reasoning_effort"] == sent
    assert response.metadata["reasoning_sent"] == {"reasoning_effort": sent}


@pytest.mark.parametrize(
    ("opts", "path"),
    [
        ({"reasoning": "low"}, ("reasoning", "effort")),
        ({"reasoning": "minimal"}, ("reasoning", "effort")),
        ({"reasoning": "medium"}, ("reasoning", "effort")),
        ({"reasoning_effort": "medium"}, ("reasoning_effort",)),
        ({"reasoning_summary": "auto"}, ("reasoning_summary",)),
        ({"verbosity": "low"}, ("verbosity",)),
        ({"logprobs": True}, ("logprobs",)),
    ],
)
def test_mistral_refuses_what_its_reference_does_not_list(opts: dict[str, Any], path: Any) -> None:
    errors = refused("mistral", "mistral-small-latest", CHAT_ANSWER, **opts)
    assert errors == ((path, "unsupported_option"),)


# -- a prompt-cache key where the wire has no field -----------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "model", "answer"),
    [("gemini", "gemini-2.5-flash", GEMINI_ANSWER), ("ollama", "qwen3", OLLAMA_ANSWER)],
)
def test_a_prompt_cache_key_is_refused_where_caching_is_implicit(
    adapter: str, model: str, answer: dict[str, Any]
) -> None:
    errors = refused(adapter, model, answer, prompt_cache=allm.PromptCache(key="tenant-7"))
    assert errors == ((("prompt_cache", "key"), "unsupported_option"),)
    body, _ = sent_body(adapter, model, answer, prompt_cache="auto")  # implicit: nothing sent
    assert "prompt_cache_key" not in json.dumps(body)
