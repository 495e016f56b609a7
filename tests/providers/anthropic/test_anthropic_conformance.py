"""The adapter conformance kit bound to the Anthropic transcripts."""

from __future__ import annotations

from typing import ClassVar

from tests.providers.conformance import Transcripts

from allm.providers.anthropic import Anthropic
from allm.testing.conformance import AdapterConformance


class TestAnthropicConformance(Transcripts, AdapterConformance):
    directory = "anthropic"
    model = "claude-haiku-4-5"
    make_adapter = Anthropic
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_use_stream_fragmented",
        "rate_limited": "error_429_rate_limit",
        "mid_stream": "stream_overloaded_error",
        "truncated": "stream_truncated",
    }
