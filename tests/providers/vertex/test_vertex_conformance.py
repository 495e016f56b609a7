"""The adapter conformance kit bound to the Vertex transcripts: Gemini models, and Claude models
(with google-auth credentials holding a valid token, so no token endpoint is involved)."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.providers.conformance import Transcripts
from tests.providers.vertex.support import PROJECT, credentials

from allm.providers.vertex import Vertex
from allm.testing.conformance import AdapterConformance


class TestVertexGeminiConformance(Transcripts, AdapterConformance):
    directory = "vertex"
    model = "gemini-2.5-flash"
    make_adapter = Vertex
    adapter_opts: ClassVar[dict[str, Any]] = {
        "credentials": credentials(),
        "project": PROJECT,
        "location": "us-central1",
    }
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429_resource_exhausted",
        "mid_stream": "stream_error_event",
        "truncated": "stream_truncated",
    }


class TestVertexClaudeConformance(Transcripts, AdapterConformance):
    directory = "vertex-anthropic"
    model = "claude-sonnet-4-5@20250929"
    make_adapter = Vertex
    adapter_opts: ClassVar[dict[str, Any]] = {"credentials": credentials(), "project": PROJECT}
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_use_stream",
        "rate_limited": "error_429_quota",
        "mid_stream": "stream_overloaded_error",
        "truncated": "stream_truncated",
    }
