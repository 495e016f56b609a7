"""The call keywords of Layer C, typed: ``CallOptions`` and ``ChatOptions``.

The two ``TypedDict`` s are the one source of truth: a type checker reads them through
``**opts: Unpack[CallOptions]``, and ``check_options`` derives the valid keyword set from them, so
a misspelled keyword fails the same way under mypy and at run time (``docs/requests.md``).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

    from ..data.models import ModelRef
    from ..data.results import StepResult
    from ..data.tools import Tool
    from ..events import Event

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:  # the checker's own copy: never imported at run time
        from typing_extensions import Unpack

__all__ = [
    "CALL_OPTION_KEYS",
    "CHAT_OPTION_KEYS",
    "CallOptions",
    "ChatOptions",
    "Unpack",
    "check_options",
]


class CallOptions(TypedDict, total=False):
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
    # ``str | allm.Reasoning`` and ``"auto" | allm.PromptCache`` once those values exist
    reasoning: str | Mapping[str, Any] | Any
    prompt_cache: str | Mapping[str, Any] | Any
    # provider body parameters: {"openai": {...}, "anthropic": {...}, ...}
    provider_options: Mapping[str, Mapping[str, Any]]
    # OpenAI controls, kept as aliases
    reasoning_effort: str
    reasoning_summary: str
    verbosity: str
    max_line_bytes: int
    # the stream's filters
    emit_text_deltas: bool
    emit_tool_deltas: bool
    include_raw_chunks: bool
    on_event: Callable[[Event], Any]
    # the call itself
    request_id: str
    api_key: str
    adapter_opts: Mapping[str, Any]
    retry: Any
    fallback_on: Collection[str]
    output_retries: int
    # transport settings, over the adapter's
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


class ChatOptions(CallOptions, total=False):
    """``CallOptions`` plus the chat loop's keywords (``step``, ``chat`` and their twins)."""

    mode: Literal["auto", "manual"]
    max_turns: int
    halt_when: Callable[[StepResult], Any]
    on_tool_error: str | Callable[..., Any]
    tool_timeout: float | None
    max_concurrency: int
    structured_finalize_nudge: str
    context: Mapping[str, Any]
    tool_executor: Any
    tool_result_encoder: Any
    session_id: str
    prepare_step: Callable[[Any], Any]
    history: Any


CALL_OPTION_KEYS: frozenset[str] = frozenset(CallOptions.__annotations__)
CHAT_OPTION_KEYS: frozenset[str] = frozenset(ChatOptions.__annotations__) | CALL_OPTION_KEYS


def check_options(opts: Mapping[str, Any], valid: frozenset[str]) -> None:
    """Raise ``ConfigurationError("unknown_option")`` listing every keyword not in ``valid``,
    each with the closest valid one when there is a near spelling."""
    unknown = sorted(key for key in opts if key not in valid)
    if not unknown:
        return
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f": did you mean {close[0]!r}?" if close else ""
        problems.append(f"unknown option {key!r}{hint}")
    problems.append("provider body parameters go in provider_options={'<provider>': {...}}")
    raise ConfigurationError("unknown_option", problems=problems)


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` onto ``base``: mappings merge key by key, any other value replaces."""
    if not isinstance(base, Mapping) or not isinstance(over, Mapping):
        return over
    merged = dict(base)
    for key, value in over.items():
        merged[key] = deep_merge(merged.get(key), value)
    return merged


def merged_provider_options(
    levels: Sequence[Any], known: Collection[str]
) -> tuple[dict[str, dict[str, Any]], list[tuple[tuple[Any, ...], str]]]:
    """The ``provider_options`` levels (lowest first) deep-merged, and what is wrong with them: a
    value that is not a mapping of mappings, or a name no registered adapter (nor preset) has."""
    merged: dict[str, dict[str, Any]] = {}
    errors: list[tuple[tuple[Any, ...], str]] = []
    for level in levels:
        if not level:
            continue
        if not isinstance(level, Mapping):
            errors.append((("provider_options",), "not_a_map"))
            continue
        for name, body in level.items():
            if not isinstance(body, Mapping):
                errors.append((("provider_options", name), "not_a_map"))
            elif name not in known:
                errors.append((("provider_options", name), "unknown_provider"))
            else:
                merged[name] = deep_merge(merged.get(name, {}), body)
    return merged, errors


def provider_names(adapter: Any) -> list[str]:
    """The ``provider_options`` entries an adapter reads, most general first: a preset reads
    ``"openai_compatible"`` then its own name (``"groq"``)."""
    names: list[str] = []
    for cls in reversed(type(adapter).__mro__):
        name = cls.__dict__.get("name")
        if isinstance(name, str) and name not in names:
            names.append(name)
    own = getattr(adapter, "name", None)
    if isinstance(own, str) and own not in names:
        names.append(own)
    return names
