"""The call keywords of Layer C, typed: ``CallOptions`` and ``ChatOptions``.

The two ``TypedDict`` s are the one source of truth: a type checker reads them through
``**opts: Unpack[CallOptions]``, and ``check_options`` derives the valid keyword set from them, so
a misspelled keyword fails the same way under mypy and at run time (``docs/requests.md``).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..adapters.options import deep_merge
from ..errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

    from ..data.models import ModelRef
    from ..data.reasoning import PromptCache, Reasoning
    from ..data.results import StepResult
    from ..data.tools import Tool
    from ..events import Event
    from ..retry import RetryPolicy
    from ..tooling import ToolExecutor, ToolResultEncoder

    # Read by the type checker only (the annotations are strings at run time), so 3.10 needs no
    # typing_extensions installed.
    if sys.version_info >= (3, 11):
        from typing import Unpack as Unpack
    else:
        from typing_extensions import Unpack as Unpack

__all__ = [
    "CALL_OPTION_KEYS",
    "CHAT_OPTION_KEYS",
    "TRANSPORT_OPTION_KEYS",
    "CallOptions",
    "ChatOptions",
    "TransportOptions",
    "check_options",
    "merged_provider_options",
    "option_keys",
]


class TransportOptions(TypedDict, total=False):
    """How a call reaches its provider: the key, the call's id, adapter options and the
    transport settings (over the adapter's). Every surface that talks to a provider takes them
    (``allm.batch.get`` / ``cancel`` / ``results`` / ``wait`` take only these)."""

    request_id: str
    api_key: str
    adapter_opts: Mapping[str, Any]
    base_url: str
    headers: Mapping[str, str]
    timeout: float
    request_timeout: float
    receive_timeout: float
    pool_timeout: float
    stream_timeout: float
    http_client: httpx.Client
    async_http_client: httpx.AsyncClient
    endpoint: Literal["chat_completions", "responses"]
    max_sse_line_bytes: int
    max_connections: int


class CallOptions(TransportOptions, total=False):
    """Every keyword ``generate``, ``stream_generate`` and their async twins take (``generate``
    also takes ``streaming``). Each wins over the request's field and the engine."""

    # the request's fields
    model: str | ModelRef | tuple[str, str]
    tools: Sequence[Tool]
    tool_choice: str | tuple[str, str] | Mapping[str, Any]
    temperature: float
    max_tokens: int
    response_format: Any
    structured_finalize: bool
    # neutral fields, translated per wire or refused before any I/O
    stop: str | Sequence[str]
    top_p: float
    seed: int
    parallel_tool_calls: bool
    logprobs: bool | int
    reasoning: str | Reasoning
    prompt_cache: Literal["auto"] | PromptCache
    # provider body fields by provider name: {"openai": {...}, "anthropic": {...}, ...}
    provider_options: Mapping[str, Mapping[str, Any]]
    # OpenAI's own controls, kept as aliases (reasoning_effort and reasoning_summary of reasoning=)
    reasoning_effort: str
    reasoning_summary: str
    verbosity: str
    max_line_bytes: int
    # the stream's filters
    emit_text_deltas: bool
    emit_tool_deltas: bool
    include_raw_chunks: bool
    on_event: Callable[[Event], Any]
    # the call's policies
    retry: Literal["default"] | bool | Mapping[str, Any] | RetryPolicy
    fallback_on: Collection[str]
    output_retries: int


class ChatOptions(CallOptions, total=False):
    """``CallOptions`` plus the chat loop's keywords (``step``, ``chat``, their twins and the
    session operations)."""

    mode: Literal["auto", "manual"]
    max_turns: int
    halt_when: Callable[[StepResult], Any]
    on_tool_error: Literal["continue", "halt"] | Callable[..., Any]
    tool_timeout: float | None
    max_concurrency: int
    structured_finalize_nudge: str
    context: Mapping[str, Any]
    tool_executor: ToolExecutor
    tool_result_encoder: ToolResultEncoder
    session_id: str
    prepare_step: Callable[[Any], Any]
    history: Any  # a reducer of allm.history (a room above this one)


def option_keys(options: Any) -> frozenset[str]:
    """The keywords a ``TypedDict`` of options declares, its bases' included."""
    return frozenset(options.__required_keys__ | options.__optional_keys__)


TRANSPORT_OPTION_KEYS = option_keys(TransportOptions)
CALL_OPTION_KEYS = option_keys(CallOptions)
CHAT_OPTION_KEYS = option_keys(ChatOptions)
_CHAT_ONLY_KEYS = CHAT_OPTION_KEYS - CALL_OPTION_KEYS
_PROVIDER_OPTIONS_HINT = "provider body parameters go in provider_options={'<provider>': {...}}"


def _suggestion(name: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(valid), n=1)
    return f": did you mean {close[0]!r}?" if close else ""


def check_options(opts: Mapping[str, Any], valid: Collection[str]) -> None:
    """Raise ``ConfigurationError("unknown_option")`` listing every keyword not in ``valid``,
    each with the closest valid one when there is a near spelling (a chat-loop keyword given
    to a single call is named as one)."""
    unknown = sorted(key for key in opts if key not in valid)
    if not unknown:
        return
    problems = [
        f"unknown option {key!r}: a chat-loop option (allm.chat, allm.step)"
        if key in _CHAT_ONLY_KEYS
        else f"unknown option {key!r}{_suggestion(key, valid)}"
        for key in unknown
    ]
    problems.append(_PROVIDER_OPTIONS_HINT)
    raise ConfigurationError("unknown_option", problems=problems)


def merged_provider_options(
    levels: Sequence[tuple[str, Any]], known: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The ``provider_options`` levels (``(where, value)``, lowest first: engine, request, call)
    deep-merged by provider name. A value that is not a mapping of mappings is a
    ``ConfigurationError("invalid_option")``; a name no registered adapter (nor preset) has is
    a ``ConfigurationError("unknown_option")`` naming the closest one; every problem listed."""
    merged: dict[str, dict[str, Any]] = {}
    invalid: list[str] = []
    unknown: list[str] = []
    for where, level in levels:
        if not level:
            continue
        if not isinstance(level, Mapping):
            invalid.append(f"{where} must map provider names to dicts, got {level!r}")
            continue
        for name, body in level.items():
            if not isinstance(body, Mapping):
                invalid.append(f"{where}[{name!r}] must be a dict, got {body!r}")
            elif name not in known:
                unknown.append(f"{where} names no provider {name!r}{_suggestion(str(name), known)}")
            else:
                merged[name] = deep_merge(merged.get(name, {}), body)
    if invalid:
        raise ConfigurationError("invalid_option", problems=invalid + unknown)
    if unknown:
        raise ConfigurationError("unknown_option", problems=unknown)
    return merged
