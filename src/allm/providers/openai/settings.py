"""Which OpenAI wire a call uses, and the adapter options the OpenAI wires read."""

from __future__ import annotations

import logging
import re
from typing import Any

from ...adapters import Call
from ...adapters.base import HttpSettings
from ...errors import ConfigurationError

_log = logging.getLogger("allm.providers.openai")

CHAT_COMPLETIONS = "chat_completions"
RESPONSES = "responses"
# The neutral fields the Responses API has no body field for.
RESPONSES_UNSUPPORTED = ("stop", "seed")
_PATHS = {CHAT_COMPLETIONS: "/chat/completions", RESPONSES: "/responses"}
# Bounds in OpenAI's OpenAPI document: Chat Completions ``stop`` (maxItems), Responses
# ``max_output_tokens`` (minimum).
MAX_STOP_SEQUENCES = 4
MIN_OUTPUT_TOKENS = 16

# Design §20.1: gpt-5* and the o-series default to Responses.
_RESPONSES_MODELS = re.compile(r"^(gpt-5|o[1-9])")
# Chat Completions models that reject `max_tokens` (FORMATS §1: reasoning models need
# `max_completion_tokens`; §20.1 names gpt-4o/4.1/5, the o-series rejects it too).
_COMPLETION_TOKEN_MODELS = re.compile(r"^(gpt-(4o|4\.1|5)|o[1-9])")
_REASONING_MODELS = re.compile(r"^(gpt-5|o[1-9])")
_VERBOSITY_MODELS = re.compile(r"^gpt-5")

REASONING_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
REASONING_SUMMARIES = frozenset({"auto", "concise", "detailed"})
VERBOSITIES = frozenset({"low", "medium", "high"})
_REASONING_PARAMS = ("reasoning_effort", "reasoning_summary", "verbosity")
# Call keywords this adapter reads itself: never copied into a request body.
_OWN_PARAMS = (*_REASONING_PARAMS, "max_line_bytes")


def _choice(value: Any, allowed: frozenset[str], name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigurationError(
            "invalid_option",
            problems=[f"{name} must be one of {sorted(allowed)}, got {value!r}"],
        )
    return value


def reasoning_params(call: Call, *, validate: bool) -> dict[str, str]:
    """The reasoning controls among the call's params (validated for api.openai.com)."""
    found: dict[str, str] = {}
    allowed = {
        "reasoning_effort": REASONING_EFFORTS,
        "reasoning_summary": REASONING_SUMMARIES,
        "verbosity": VERBOSITIES,
    }
    for name in _REASONING_PARAMS:
        value = call.params.get(name)
        if value is None:
            continue
        found[name] = _choice(value, allowed[name], name) if validate else str(value)
    return found


class OpenAIAccount(HttpSettings):
    """HTTP settings plus the ``organization`` and ``project`` every OpenAI adapter sends."""

    def __init__(
        self, *, organization: str | None = None, project: str | None = None, **settings: Any
    ) -> None:
        super().__init__(**settings)
        self.organization = organization
        self.project = project
