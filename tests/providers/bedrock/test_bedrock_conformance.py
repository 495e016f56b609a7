"""The adapter conformance kit bound to the Bedrock transcripts."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.providers.conformance import Transcripts

from allm.providers.bedrock import Bedrock
from allm.testing.conformance import AdapterConformance

from .cases import MODEL


def _adapter() -> Any:
    return Bedrock(region="us-east-1")


class TestBedrockConformance(Transcripts, AdapterConformance):
    directory = "bedrock"
    model = MODEL
    make_adapter = _adapter
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429_throttling",
        "mid_stream": "stream_exception_throttling",
        "truncated": "stream_truncated",
    }
