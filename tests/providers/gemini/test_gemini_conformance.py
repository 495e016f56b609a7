"""The adapter conformance kit bound to the Gemini transcripts."""

from __future__ import annotations

from typing import ClassVar

from tests.providers.conformance import Transcripts

from allm.providers.gemini import Gemini
from allm.testing.conformance import AdapterConformance


class TestGeminiConformance(Transcripts, AdapterConformance):
    directory = "gemini"
    model = "gemini-2.5-flash"
    make_adapter = Gemini
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429_resource_exhausted",
        "mid_stream": "stream_error_event",
        "truncated": "stream_truncated",
    }
