"""OpenAI: Chat Completions and Responses, and any server speaking the Chat Completions wire.

``OpenAI`` talks to ``https://api.openai.com/v1``. The endpoint comes from the ``endpoint``
adapter option (``"chat_completions"`` or ``"responses"``), else from the model name: ``gpt-5*``
and ``o1``..``o9*`` use Responses, everything else Chat Completions. ``OpenAICompatible`` speaks
Chat Completions at a required ``base_url`` (Ollama, vLLM, llama.cpp, Groq, OpenRouter, ...),
sends no ``Authorization`` header when no key is configured, and forgives what those servers
leave out (usage, ``finish_reason``, ``[DONE]`` after a finish, tool-call indexes).

Adapters never do I/O: this package builds requests and decodes bytes, one job per module
(``docs/architecture.md``): both wires share ``request``, ``decode`` and ``errors``; the Chat
Completions wire is ``chat_request``/``chat_decode``, the Responses wire
``responses_request``/``responses_decode``. Wire quirks and how each is handled:
``docs/design/providers-openai.md``.
"""

from __future__ import annotations

from .adapter import OpenAI, OpenAICompatible
from .chat_decode import ChatStreamDecoder, parse_chat_body
from .chat_request import (
    chat_content,
    chat_messages,
    chat_response_format,
    chat_tool_choice,
    chat_tools,
)
from .decode import (
    OpenAIDecoder,
    chat_usage,
    events_from_response,
    finish_reason_for,
    parse_arguments,
    usage_fields,
    wire_usage,
)
from .errors import (
    api_error,
    classify_http_error,
    error_reason,
    go_duration_ms,
    snippet,
    unreadable_error,
)
from .request import (
    account_headers,
    content_text,
    forced_tool,
    has_image,
    image_url,
    json_schema_format,
    merge_extras,
    strict_of,
    tool_schema,
    wire_arguments,
)
from .settings import (
    CHAT_COMPLETIONS,
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    RESPONSES,
    VERBOSITIES,
    reasoning_params,
)

__all__ = [
    "CHAT_COMPLETIONS",
    "account_headers",
    "RESPONSES",
    "OpenAI",
    "OpenAICompatible",
    "ChatStreamDecoder",
    "parse_chat_body",
    "chat_content",
    "chat_messages",
    "chat_tools",
    "chat_tool_choice",
    "chat_response_format",
    "parse_arguments",
    "usage_fields",
    "wire_usage",
    "chat_usage",
    "finish_reason_for",
    "OpenAIDecoder",
    "events_from_response",
    "snippet",
    "go_duration_ms",
    "error_reason",
    "api_error",
    "unreadable_error",
    "classify_http_error",
    "wire_arguments",
    "merge_extras",
    "tool_schema",
    "strict_of",
    "forced_tool",
    "image_url",
    "content_text",
    "has_image",
    "json_schema_format",
    "REASONING_EFFORTS",
    "REASONING_SUMMARIES",
    "VERBOSITIES",
    "reasoning_params",
]
