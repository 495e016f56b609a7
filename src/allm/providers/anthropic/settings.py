"""Anthropic constants: the API version, default limits, the ids this adapter gives thinking blocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
STRUCTURED_TOOL_PREFIX = "respond_with_json_"
STRUCTURED_TOOL_DESCRIPTION = "Return the final result as a JSON object matching the schema."

# The ``id`` that marks a reasoning block as Anthropic's, so the next turn can send it back.
THINKING_ID = "thinking"
REDACTED_THINKING_ID = "redacted_thinking"
_TOOL_CHOICE_TYPES = frozenset({"auto", "any", "none", "tool"})
# The neutral fields the Messages API has no body field for.
UNSUPPORTED_NEUTRAL = ("seed", "logprobs")
_FORMAT_TYPES = frozenset({"json_schema", "json_object", "text"})


def _thinking_enabled(thinking: Any) -> bool:
    return isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")
