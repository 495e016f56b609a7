"""Binds the adapter conformance kit (allm.testing.conformance) to recorded transcripts, so the
same numbered cases run against every HTTP adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import httpx

import allm
from allm.testing.conformance import Scenario

from .wire import Case, load

SPLIT = [7, 150, 151, 900, 2048]


class CountingBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A recorded body that counts how often the client closed it."""

    def __init__(self, chunks: list[bytes], closes: dict[str, int]) -> None:
        self.chunks, self.closes = chunks, closes

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    def close(self) -> None:
        self.closes["closed"] += 1

    async def aclose(self) -> None:
        self.closes["closed"] += 1


def engine_serving(
    case: Case,
    adapter: Any,
    model: str,
    chunking: str,
    closes: dict[str, int],
    sent: list[Any],
    **adapter_opts: Any,
) -> allm.Engine:
    """An engine whose adapter talks to a mock transport serving ``case``."""
    chunks = case.chunks(SPLIT if chunking == "split" else chunking)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(
            case.status, headers=case.headers, stream=CountingBody(chunks, closes)
        )

    async def async_answer(request: httpx.Request) -> httpx.Response:
        return answer(request)

    return allm.Engine(
        adapter=adapter,
        model=model,
        adapter_opts={
            **adapter_opts,
            "http_client": httpx.Client(transport=httpx.MockTransport(answer)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(async_answer)),
        },
        retry=False,
    )


class Transcripts:
    """Serves each conformance scenario from a recorded transcript. Subclasses name the
    directory, the adapter factory, the model and the case for each scenario."""

    directory: ClassVar[str]
    model: ClassVar[str]
    names: ClassVar[dict[str, str]]
    adapter_opts: ClassVar[dict[str, Any]] = {}
    make_adapter: ClassVar[Callable[[], Any]]

    def scenario(self, name: str, chunking: str = "whole") -> Scenario | None:
        if name not in self.names:
            return None
        case = load(self.directory, self.names[name])
        closes = {"closed": 0}
        sent: list[Any] = []
        tool = case.expect["tool_calls"][0]["name"] if case.expect["tool_calls"] else None
        error = case.expect.get("error") or {}
        factory = type(self).make_adapter
        engine = engine_serving(
            case, factory(), self.model, chunking, closes, sent, **self.adapter_opts
        )
        return Scenario(
            engine,
            opts={"api_key": "conformance-key"},
            expect_text=case.expect["output_text"],
            expect_tool=tool,
            expect_reason={"rate_limit": "rate_limited"}.get(error.get("kind", "")),
            closes=lambda: closes["closed"],
            sent=lambda: list(sent),
        )
