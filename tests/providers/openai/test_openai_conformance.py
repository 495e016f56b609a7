"""The adapter conformance kit bound to the OpenAI transcripts, once for Chat Completions and
once for Responses."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.providers.conformance import Transcripts

from allm.providers.openai import OpenAI
from allm.testing.conformance import AdapterConformance


class TestChatCompletionsConformance(Transcripts, AdapterConformance):
    directory = "openai-chat"
    model = "gpt-4.1"
    make_adapter = OpenAI
    adapter_opts: ClassVar[dict[str, Any]] = {"endpoint": "chat_completions"}
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream_fragmented",
        "rate_limited": "error_429_rate_limit",
        "mid_stream": "stream_error_event",
        "truncated": "stream_truncated",
    }


class TestResponsesConformance(Transcripts, AdapterConformance):
    directory = "openai-responses"
    model = "gpt-4.1"
    make_adapter = OpenAI
    adapter_opts: ClassVar[dict[str, Any]] = {"endpoint": "responses"}
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream_fragmented",
        "rate_limited": "error_429_rate_limit",
        "mid_stream": "response_failed_stream",
        "truncated": "stream_truncated",
    }
