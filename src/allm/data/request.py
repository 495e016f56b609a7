"""What one model call asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .messages import Message
from .reasoning import PromptCache, Reasoning
from .tools import Tool, normalize_schema

__all__ = ["MAX_TOP_LOGPROBS", "Request", "ResponseFormat", "ToolChoice", "json_schema"]

# The most alternatives per token a wire returns (OpenAI ``top_logprobs``, Gemini ``logprobs``).
MAX_TOP_LOGPROBS = 20

ToolChoice = str | tuple[str, str] | Mapping[str, Any] | None
# ``"text"``, a wave-1 format dict, or a typed output: a Python type, a bare JSON schema or an
# ``allm.output(...)`` spec.
ResponseFormat = Any


def json_schema(name: str, schema: Mapping[str, Any], strict: bool = True) -> dict[str, Any]:
    """A ``response_format`` asking for JSON that matches ``schema``."""
    return {
        "type": "json_schema",
        "name": name,
        "schema": normalize_schema(schema),
        "strict": strict,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One model call: messages, tools and sampling parameters. Never validated on construction.

    ``options`` are provider body parameters merged onto the wire as they are. ``stream`` is
    informational: which function you call decides whether the call streams.
    """

    model: str | None = None
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = None
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = False
    response_format: ResponseFormat = None
    structured_finalize: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    # Neutral fields, translated per wire or refused before any I/O (docs/one-request.md).
    stop: tuple[str, ...] = ()
    top_p: float | None = None
    seed: int | None = None
    parallel_tool_calls: bool | None = None
    # True, or how many alternatives per token; None or False asks for nothing.
    logprobs: bool | int | None = None
    # Reasoning and prompt caching, translated per wire (docs/requests.md); a bare effort string
    # becomes ``Reasoning(effort=...)``.
    reasoning: Reasoning | str | None = None
    prompt_cache: PromptCache | str | None = None
    # Provider body parameters by adapter name, for that provider only (docs/requests.md).
    provider_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.messages, tuple):
            object.__setattr__(self, "messages", tuple(self.messages))
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        elif not isinstance(self.stop, tuple) and isinstance(self.stop, list):
            object.__setattr__(self, "stop", tuple(self.stop))
        if isinstance(self.reasoning, str):
            object.__setattr__(self, "reasoning", Reasoning(effort=self.reasoning))  # type: ignore[arg-type]
        if not isinstance(self.tools, tuple):
            object.__setattr__(self, "tools", tuple(self.tools))
