"""The option table of the OpenAPI matrix (test_openapi_matrix.py): one ``Line`` per option value
on the OpenAI wires, with the slot it fills, the wires that refuse it before any I/O and the name a
line waits for while its feature is not on this branch yet (``needs``). A new option is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.providers.openai.test_openai_requests import PNG

import allm
from allm.data.messages import ImagePart, Message, TextPart
from allm.data.tools import ToolCall

CHAT, RESPONSES = "chat", "responses"
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = allm.Tool("get_weather", "Weather for a city.", CITY)
STRICT = allm.Tool("strict_weather", "Weather, strictly.", CITY, strict=True)
LOOSE = allm.Tool("loose_weather", "Weather, loosely.", CITY, strict=False)
CACHED = allm.Tool("cached_weather", "Weather, cached.", CITY, cache=True)
LEGACY = allm.Tool("legacy_weather", "Strict the old way.", CITY, metadata={"strict": True})
NO_ARGS = allm.Tool("now", "The time.", {"type": "object", "properties": {}})
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WAV = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"


def derived_strict_tool() -> allm.Tool:
    def forecast(city: str, days: int = 3) -> str:
        """Forecast for a city."""
        return city * days

    tool: allm.Tool = allm.tool(strict=True)(forecast)
    return tool


def typed_format() -> Any:
    from pydantic import BaseModel

    class CityFacts(BaseModel):
        city: str
        mayor: str | None = None

    return allm.output(CityFacts)


def history() -> list[Message]:
    call = ToolCall("call_1", "get_weather", {"city": "Oslo"}, '{"city": "Oslo"}')
    return [
        allm.system("Be brief."),
        allm.user("Weather in Oslo?"),
        Message("assistant", "", tool_calls=(call,)),
        allm.tool_result("call_1", "sunny"),
        allm.assistant("Sunny."),
        Message("user", "Thanks", name="ana"),
    ]


def reasoning_history() -> list[Message]:
    """An assistant turn that carried an OpenAI reasoning item back (Responses sends it)."""
    call = ToolCall("call_1", "get_weather", {"city": "Oslo"}, None, {"item_id": "fc_1"})
    blocks = [{"id": "rs_1", "text": "thinking", "signature": "gAAAAencrypted"}]
    turn = Message("assistant", "", tool_calls=(call,), metadata={"reasoning_blocks": blocks})
    return [allm.user("Weather?"), turn, allm.tool_result("call_1", "sunny")]


@dataclass(frozen=True)
class Line:
    """One option value: the call keywords it adds (``messages`` too), the slot it fills (two
    lines of one slot never combine), the wires that refuse it before any I/O, the name it needs
    (``allm.X`` or ``Request.x``) and a model it needs."""

    name: str
    slot: str
    opts: Callable[[], dict[str, Any]]
    refused: frozenset[str] = frozenset()
    needs: str | None = None
    model: str | None = None
    # targets that spell this option their own way, off OpenAI's wire (target -> why)
    elsewhere: dict[str, str] = field(default_factory=dict)


def line(name: str, slot: str, opts: Callable[[], dict[str, Any]], **more: Any) -> Line:
    refused = more.pop("refused", ())
    return Line(name, slot, opts, frozenset(refused), **more)


def user(*parts: Any) -> dict[str, Any]:
    return {"messages": [allm.user(list(parts))]}


OPENROUTER_REASONING = {"preset-openrouter": "OpenRouter spells the effort reasoning: {effort}"}
REASONING_MODEL = "gpt-5-mini"

LINES: list[Line] = [
    # sampling
    line("temperature=0", "temperature", lambda: {"temperature": 0.0}),
    line("temperature=0.7", "temperature", lambda: {"temperature": 0.7}),
    line("temperature=2", "temperature", lambda: {"temperature": 2.0}),
    line("max_tokens", "max_tokens", lambda: {"max_tokens": 256}),
    line(
        "max_tokens on a model that takes max_tokens",
        "max_tokens",
        lambda: {"max_tokens": 64},
        model="gpt-3.5-turbo",
    ),
    line("stop one string", "stop", lambda: {"stop": "END"}, refused=[RESPONSES]),
    line("stop four", "stop", lambda: {"stop": ("a", "b", "c", "d")}, refused=[RESPONSES]),
    line("top_p=0", "top_p", lambda: {"top_p": 0.0}),
    line("top_p=0.5", "top_p", lambda: {"top_p": 0.5}),
    line("top_p=1", "top_p", lambda: {"top_p": 1.0}),
    line("seed", "seed", lambda: {"seed": 7}, refused=[RESPONSES]),
    line("seed=0", "seed", lambda: {"seed": 0}, refused=[RESPONSES]),
    line(
        "parallel_tool_calls=True",
        "parallel",
        lambda: {"tools": [WEATHER], "parallel_tool_calls": True},
    ),
    line(
        "parallel_tool_calls=False",
        "parallel",
        lambda: {"tools": [WEATHER], "parallel_tool_calls": False},
    ),
    line("parallel_tool_calls without tools", "parallel", lambda: {"parallel_tool_calls": True}),
    # tools
    line("tools, strict unset", "tools", lambda: {"tools": [WEATHER]}),
    line("tools, strict=True", "tools", lambda: {"tools": [STRICT]}),
    line("tools, strict=False", "tools", lambda: {"tools": [LOOSE]}),
    line("tools, metadata strict", "tools", lambda: {"tools": [LEGACY]}),
    line("tools, cache=True", "tool_cache", lambda: {"tools": [CACHED]}),
    line("tools, no arguments", "tool_empty", lambda: {"tools": [NO_ARGS]}),
    line("@allm.tool(strict=True)", "tool_derived", lambda: {"tools": [derived_strict_tool()]}),
    # tool_choice
    *(
        line(
            f"tool_choice={choice!r}",
            "tool_choice",
            lambda c=choice: {"tools": [WEATHER], "tool_choice": c},
        )
        for choice in (
            "auto",
            "none",
            "required",
            ("tool", "get_weather"),
            "get_weather",
            {"type": "function", "name": "get_weather"},
            {"type": "function", "function": {"name": "get_weather"}},
        )
    ),
    # response_format
    line(
        "json_schema strict", "format", lambda: {"response_format": allm.json_schema("city", CITY)}
    ),
    line(
        "json_schema not strict",
        "format",
        lambda: {"response_format": allm.json_schema("city", CITY, strict=False)},
    ),
    line("json_object", "format", lambda: {"response_format": {"type": "json_object"}}),
    line("text", "format", lambda: {"response_format": "text"}),
    line("typed output (native)", "format", lambda: {"response_format": typed_format()}),
    # reasoning
    *(
        line(
            f"reasoning={effort!r}",
            "reasoning",
            lambda e=effort: {"reasoning": e},
            model=REASONING_MODEL,
            elsewhere=OPENROUTER_REASONING,
        )
        for effort in ("none", "minimal", "low", "medium", "high", "xhigh")
    ),
    *(
        line(
            f"Reasoning(summary={summary!r})",
            "reasoning",
            lambda s=summary: {"reasoning": allm.Reasoning(summary=s)},
            refused=[CHAT],
            model=REASONING_MODEL,
        )
        for summary in ("auto", "concise", "detailed")
    ),
    line(
        "Reasoning(effort, summary)",
        "reasoning",
        lambda: {"reasoning": allm.Reasoning(effort="high", summary="detailed")},
        refused=[CHAT],
        model=REASONING_MODEL,
    ),
    line(
        "Reasoning(budget_tokens)",
        "reasoning",
        lambda: {"reasoning": allm.Reasoning(budget_tokens=2048)},
        refused=[CHAT, RESPONSES],
        model=REASONING_MODEL,
    ),
    line(
        "reasoning_effort alias",
        "alias_effort",
        lambda: {"reasoning_effort": "low"},
        model=REASONING_MODEL,
    ),
    line(
        "reasoning_summary alias",
        "alias_summary",
        lambda: {"reasoning_summary": "auto"},
        model=REASONING_MODEL,
    ),
    line("verbosity alias", "alias_verbosity", lambda: {"verbosity": "low"}, model=REASONING_MODEL),
    # prompt caching
    line("prompt_cache='auto'", "prompt_cache", lambda: {"prompt_cache": "auto"}),
    line(
        "PromptCache(key)",
        "prompt_cache",
        lambda: {"prompt_cache": allm.PromptCache(key="tenant-7")},
    ),
    line(
        "PromptCache(key, long)",
        "prompt_cache",
        lambda: {"prompt_cache": allm.PromptCache(key="tenant-7", retention="long")},
    ),
    line(
        "PromptCache(long)",
        "prompt_cache",
        lambda: {"prompt_cache": allm.PromptCache(retention="long")},
    ),
    line("CachePoint in a user turn", "cache_point", lambda: user("doc", allm.CachePoint(), "q")),
    line(
        "CachePoint(long) in the system prompt",
        "cache_point_system",
        lambda: {"messages": [Message("system", (TextPart("rules"), allm.CachePoint("long")))]},
    ),
    # images
    line(
        "image url",
        "image",
        lambda: user("What is this?", ImagePart.from_url("https://example.com/a.png")),
    ),
    *(
        line(
            f"image bytes detail={detail}",
            "image",
            lambda d=detail: user("What?", ImagePart.from_bytes(PNG, "image/png", detail=d)),
        )
        for detail in ("auto", "low", "high")
    ),
    line(
        "image beside a CachePoint",
        "image_cache",
        lambda: user(ImagePart.from_url("https://example.com/a.png"), allm.CachePoint(), "q"),
    ),
    # conversation shapes
    line("tool-call history", "history", lambda: {"messages": history(), "tools": [WEATHER]}),
    line(
        "reasoning item carried back (store=False)",
        "history_reasoning",
        lambda: {
            "messages": reasoning_history(),
            "tools": [WEATHER],
            "options": {"store": False},
        },
        model=REASONING_MODEL,
    ),
    # Request.options and engine params pass through
    line("options store", "options_store", lambda: {"options": {"store": False}}),
    line("options metadata", "options_metadata", lambda: {"options": {"metadata": {"k": "v"}}}),
    line("options service_tier", "options_tier", lambda: {"options": {"service_tier": "auto"}}),
    line(
        "options safety_identifier",
        "options_safety",
        lambda: {"options": {"safety_identifier": "user-1"}},
    ),
    line("options None removes a key", "options_none", lambda: {"options": {"temperature": None}}),
    # token log probabilities
    line("logprobs=True", "logprobs", lambda: {"logprobs": True}),
    line("logprobs=3", "logprobs", lambda: {"logprobs": 3}),
    # later work: each line runs once its name exists (skipped with the reason until then)
    line(
        "provider_options openai",
        "provider_options",
        lambda: {"provider_options": {"openai": {"service_tier": "flex"}}},
        needs="Request.provider_options",
    ),
    line(
        "DocumentPart PDF bytes",
        "document",
        lambda: user(
            "Summarize", allm.DocumentPart.from_bytes(PDF, "application/pdf", name="a.pdf")
        ),
        needs="DocumentPart",
    ),
    line(
        "DocumentPart text",
        "document",
        lambda: user("Summarize", allm.DocumentPart.from_text("notes", name="notes.txt")),
        needs="DocumentPart",
    ),
    line(
        "DocumentPart url",
        "document",
        lambda: user("Summarize", allm.DocumentPart.from_url("https://example.com/a.pdf")),
        refused=[CHAT],
        needs="DocumentPart",
    ),
    line(
        "AudioPart wav",
        "audio",
        lambda: user("Transcribe", allm.AudioPart.from_bytes(WAV, "audio/wav")),
        refused=[RESPONSES],
        needs="AudioPart",
    ),
    line(
        "provider_tools.web_search",
        "provider_tool",
        lambda: {
            "tools": [
                allm.provider_tools.web_search(
                    allowed_domains=["example.com"],
                    context_size="low",
                    user_location={"country": "IS", "city": "Reykjavik"},
                )
            ]
        },
        refused=[CHAT],
        needs="provider_tools",
    ),
    line(
        "provider_tools.web_search on a search model",
        "provider_tool",
        lambda: {"tools": [allm.provider_tools.web_search(context_size="low")]},
        needs="provider_tools",
        model="gpt-4o-mini-search-preview",
    ),
    line(
        "provider_tools.code_execution",
        "provider_tool",
        lambda: {"tools": [allm.provider_tools.code_execution()]},
        refused=[CHAT],
        needs="provider_tools",
    ),
    line(
        "provider_tools.file_search",
        "provider_tool",
        lambda: {"tools": [allm.provider_tools.file_search(["vs_1"], max_results=4)]},
        refused=[CHAT],
        needs="provider_tools",
    ),
    line(
        "provider_tools.url_context",
        "provider_tool",
        lambda: {"tools": [allm.provider_tools.url_context()]},
        refused=[CHAT, RESPONSES],
        needs="provider_tools",
    ),
]
