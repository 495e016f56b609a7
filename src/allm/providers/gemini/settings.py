"""Gemini constants and option names: the endpoint, the ids of thought signatures, which request keys go where."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
# GenerationConfig.stopSequences takes at most five sequences.
MAX_STOP_SEQUENCES = 5
# Where a model name may carry a slash: the wire's own prefixes (see allm.adapters.urls).
MODEL_PREFIXES = ("models/", "tunedModels/")

# ``ReasoningCompleted.id`` values marking a reasoning block as Gemini's, and where its signature
# goes back on the next turn: on the answer's first text part, or on a thought part of its own.
# A block with another id (another provider's) is never sent to Gemini.
THOUGHT_ID = "gemini:thought"
TEXT_SIGNATURE_ID = "gemini:text"
THOUGHT_SIGNATURE_ID = "gemini:thought_signature"

# The documented placeholder signature for a function call Gemini did not produce (a thread
# carried over from another provider, a hand-written example): base64 of
# "skip_thought_signature_validator". Gemini 3 rejects the first call of a turn without one.
SKIP_SIGNATURE = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="

# generationConfig keys whose snake_case name does not camel-case to the wire name.
_RENAMED = {
    "stop": "stopSequences",
    "stop_sequences": "stopSequences",
    "max_tokens": "maxOutputTokens",
    "max_output_tokens": "maxOutputTokens",
    "n": "candidateCount",
}
# Options that belong at the top level of the body, not in generationConfig.
_TOP_LEVEL = {
    "safety_settings": "safetySettings",
    "safetySettings": "safetySettings",
    "cached_content": "cachedContent",
    "cachedContent": "cachedContent",
    "tool_config": "toolConfig",
    "toolConfig": "toolConfig",
}
_GENERATION_CONFIG_KEYS = frozenset({"generation_config", "generationConfig"})
_THINKING_KEYS = frozenset({"thinking_config", "thinkingConfig"})
# Options that are never body fields (the runner may pass them through as params).
_NOT_BODY = frozenset({"stream", "metadata"})


# -- pure helpers ---------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camel_keys(value: Mapping[str, Any]) -> dict[str, Any]:
    return {_camel(str(key)): item for key, item in value.items()}
