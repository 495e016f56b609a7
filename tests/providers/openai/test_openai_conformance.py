"""The adapter conformance kit (allm.testing.conformance) bound to the OpenAI transcripts, once
for Chat Completions and once for Responses."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from tests.providers.openai.support import CountingBody
from tests.providers.wire import Case, load

import allm
from allm.providers.openai import OpenAI
from allm.testing.conformance import AdapterConformance, Scenario

SPLIT = [7, 150, 151, 900, 2048]


def _engine(
    case: Case, endpoint: str, chunking: str, closes: dict[str, int], sent: list[Any]
) -> allm.Engine:
    how: Any = SPLIT if chunking == "split" else chunking
    chunks = case.chunks(how)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(
            case.status, headers=case.headers, stream=CountingBody(chunks, closes)
        )

    async def async_answer(request: httpx.Request) -> httpx.Response:
        return answer(request)

    return allm.Engine(
        adapter=OpenAI(),
        model="gpt-4.1",
        adapter_opts={
            "endpoint": endpoint,
            "http_client": httpx.Client(transport=httpx.MockTransport(answer)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(async_answer)),
        },
        retry=False,
    )


class _Transcripts:
    """Serves each conformance scenario from a recorded transcript."""

    directory: ClassVar[str]
    endpoint: ClassVar[str]
    names: ClassVar[dict[str, str]]

    def scenario(self, name: str, chunking: str = "whole") -> Scenario | None:
        if name not in self.names:
            return None
        case = load(self.directory, self.names[name])
        closes = {"closed": 0}
        sent: list[Any] = []
        tool = case.expect["tool_calls"][0]["name"] if case.expect["tool_calls"] else None
        error = case.expect.get("error") or {}
        return Scenario(
            _engine(case, self.endpoint, chunking, closes, sent),
            opts={"api_key": "conformance-key"},
            expect_text=case.expect["output_text"],
            expect_tool=tool,
            expect_reason={"rate_limit": "rate_limited"}.get(error.get("kind", "")),
            closes=lambda: closes["closed"],
            sent=lambda: list(sent),
        )


class TestChatCompletionsConformance(_Transcripts, AdapterConformance):
    directory = "openai-chat"
    endpoint = "chat_completions"
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream_fragmented",
        "rate_limited": "error_429_rate_limit",
        "mid_stream": "stream_error_event",
        "truncated": "stream_truncated",
    }


class TestResponsesConformance(_Transcripts, AdapterConformance):
    directory = "openai-responses"
    endpoint = "responses"
    names: ClassVar[dict[str, str]] = {
        "text": "text_stream",
        "tool_call": "tool_call_stream_fragmented",
        "rate_limited": "error_429_rate_limit",
        "mid_stream": "response_failed_stream",
        "truncated": "stream_truncated",
    }
