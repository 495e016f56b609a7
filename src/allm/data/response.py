"""What a model call produced."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..errors import AllmError
from .messages import ImagePart, Message
from .server_tools import Citation, ServerToolCall
from .tools import ToolCall

__all__ = ["FinishReason", "Response", "TokenLogprob", "Usage", "add_usage"]


class FinishReason(str, Enum):
    """Why the model stopped; the same six values for every provider."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and costs. ``None`` means the provider did not report it, never zero.

    ``input_tokens`` includes cached and cache-write tokens and ``output_tokens`` includes
    reasoning tokens, on every provider.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    total_cost: float | None = None
    tool_usage: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _plus(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else a + b


def add_usage(first: Usage, second: Usage) -> Usage:
    """Two calls' usage added up; a count neither reported stays ``None``."""
    return Usage(
        input_tokens=_plus(first.input_tokens, second.input_tokens),
        output_tokens=_plus(first.output_tokens, second.output_tokens),
        cached_input_tokens=_plus(first.cached_input_tokens, second.cached_input_tokens),
        cache_write_input_tokens=_plus(
            first.cache_write_input_tokens, second.cache_write_input_tokens
        ),
        reasoning_tokens=_plus(first.reasoning_tokens, second.reasoning_tokens),
        total_tokens=_plus(first.total_tokens, second.total_tokens),
        input_cost=_plus(first.input_cost, second.input_cost),
        output_cost=_plus(first.output_cost, second.output_cost),
        total_cost=_plus(first.total_cost, second.total_cost),
        tool_usage={**first.tool_usage, **second.tool_usage},
        extra={**first.extra, **second.extra},
    )


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One output token and its log probability; ``bytes`` its UTF-8 bytes when the provider
    gives them, ``top`` the most likely alternatives at that position (when asked for)."""

    token: str
    logprob: float
    bytes: builtins.bytes | None = None
    top: tuple[TokenLogprob, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.top, tuple):
            object.__setattr__(self, "top", tuple(self.top))


@dataclass(frozen=True, slots=True)
class Response:
    """The result of one model call.

    After a failure mid-stream, ``finish_reason`` is ``"error"`` and ``error`` (also
    ``metadata["error"]``, kept for compatibility) holds the error; everything received before it (text, tool calls, usage) is kept. With a typed
    output (``response_format=SomeType``), ``parsed`` is the validated value. ``logprobs`` holds
    the output tokens' log probabilities when the call asked for them (``logprobs=``), else None.
    """

    id: str | None = None
    request_id: str | None = None
    model: str | None = None
    message: Message | None = None
    output_text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    raw: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    reasoning: str | None = None
    parsed: Any = None
    citations: tuple[Citation, ...] = ()
    server_tool_calls: tuple[ServerToolCall, ...] = ()
    logprobs: tuple[TokenLogprob, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("tool_calls", "citations", "server_tool_calls"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.logprobs is not None and not isinstance(self.logprobs, tuple):
            object.__setattr__(self, "logprobs", tuple(self.logprobs))
        if type(self.finish_reason) is str:
            object.__setattr__(self, "finish_reason", FinishReason(self.finish_reason))

    @property
    def text(self) -> str | None:
        """The output text, else a string message content, else ``None``."""
        if self.output_text is not None:
            return self.output_text
        if self.message is not None and isinstance(self.message.content, str):
            return self.message.content
        return None

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The images the model returned (image parts of the message content)."""
        if self.message is None or isinstance(self.message.content, str):
            return ()
        return tuple(part for part in self.message.content if isinstance(part, ImagePart))

    @property
    def error(self) -> AllmError | None:
        """The error folded into this response, if it failed mid-stream (a typed ``AllmError``)."""
        error = self.metadata.get("error")
        return error if isinstance(error, AllmError) else None
