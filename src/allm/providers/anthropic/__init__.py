"""Anthropic Messages API (``POST /v1/messages``): request building, stream decoding, errors.

What it does: translates a ``Request`` into an Anthropic body (system hoisted to the top-level
``system`` field, tool results batched into one user turn, thinking blocks sent back verbatim,
structured output by a forced synthetic tool) and the answer, streamed (named SSE events) or
whole (compact JSON), back into allm events and a ``Response``. What it does not do: I/O (the
drivers perform the HTTP), or server-side tools (``server_tool_use`` and their result blocks are
surfaced as raw chunks only). Wire quirks and the choices made are in
``docs/design/providers-anthropic.md``.
"""

from __future__ import annotations

from .adapter import Anthropic
from .decode import AnthropicStreamDecoder, finish_reason_for, usage_fields
from .errors import classify
from .request import structured_tool_name
from .settings import (
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    REDACTED_THINKING_ID,
    STRUCTURED_TOOL_DESCRIPTION,
    STRUCTURED_TOOL_PREFIX,
    THINKING_ID,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_TOKENS",
    "STRUCTURED_TOOL_PREFIX",
    "Anthropic",
    "AnthropicStreamDecoder",
    "classify",
    "finish_reason_for",
    "structured_tool_name",
    "usage_fields",
    "STRUCTURED_TOOL_DESCRIPTION",
    "THINKING_ID",
    "REDACTED_THINKING_ID",
]
