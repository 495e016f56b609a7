"""End to end over real sockets (allm.testing.loopback): streaming and not, sync and async, a 429
retried after ``Retry-After: 0``, and a stream cut in the middle of an event."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from tests.providers.wire import load

import allm
from allm.providers.openai import OpenAI, OpenAICompatible
from allm.testing.loopback import LoopbackServer

FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0}
PATHS = {"openai-chat": "/chat/completions", "openai-responses": "/responses"}
ENDPOINTS = {"openai-chat": "chat_completions", "openai-responses": "responses"}


class Site:
    """One test's corner of a shared loopback server: its own path prefix and requests."""

    _count = 0

    def __init__(self, server: LoopbackServer) -> None:
        Site._count += 1
        self.server = server
        self.prefix = f"/t{Site._count}/v1"

    @property
    def base_url(self) -> str:
        return self.server.url + self.prefix

    def add(self, directory: str, **answer: Any) -> None:
        self.server.add("POST", self.prefix + PATHS[directory], **answer)

    @property
    def requests(self) -> list[Any]:
        return [r for r in self.server.requests if r.path.startswith(self.prefix + "/")]


@pytest.fixture(scope="module")
def shared() -> Iterator[LoopbackServer]:
    found = LoopbackServer().start()
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture
def server(shared: LoopbackServer) -> Site:
    return Site(shared)


def engine(server: Site, directory: str, **fields: Any) -> allm.Engine:
    fields.setdefault("retry", False)
    return allm.Engine(
        adapter=OpenAI(base_url=server.base_url, endpoint=ENDPOINTS[directory]),
        model="gpt-4.1",
        **fields,
    )


def call(api: str, target: allm.Engine, *, streaming: bool, **opts: Any) -> allm.Response:
    """One call with clients owned (and closed) by the test, so no socket outlives it."""
    opts.setdefault("api_key", "loop-key")
    if api == "sync":
        with httpx.Client() as client:
            return allm.generate(
                target, [allm.user("hi")], streaming=streaming, http_client=client, **opts
            )

    async def go() -> allm.Response:
        async with httpx.AsyncClient() as client:
            return await allm.agenerate(
                target, [allm.user("hi")], streaming=streaming, async_http_client=client, **opts
            )

    return anyio.run(go)


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize(
    ("directory", "name", "streaming"),
    [
        ("openai-chat", "text_stream", True),
        ("openai-chat", "text_nonstream", False),
        ("openai-chat", "unicode_split_stream", True),
        ("openai-responses", "text_stream", True),
        ("openai-responses", "text_nonstream", False),
        ("openai-responses", "reasoning_summary_stream", True),
    ],
)
def test_a_call_over_real_sockets(
    server: Site, directory: str, name: str, streaming: bool, api: str
) -> None:
    case = load(directory, name)
    server.add(
        directory,
        status=200,
        headers=case.headers,
        body=case.body,
        chunks=case.boundaries or [97, 1000],
    )
    response = call(api, engine(server, directory), streaming=streaming)
    assert response.finish_reason == case.expect["finish_reason"]
    assert response.text == case.expect["output_text"]
    assert response.id == case.expect["response_id"]
    assert response.usage.total_tokens == case.expect["usage"]["total_tokens"]
    [received] = server.requests
    assert {k.lower(): v for k, v in received.headers.items()}["authorization"] == "Bearer loop-key"
    assert received.json()["model"] == "gpt-4.1"
    assert ("stream" in received.json()) is streaming


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("directory", ["openai-chat", "openai-responses"])
def test_a_429_with_retry_after_zero_is_retried(
    server: Site, directory: str, streaming: bool, api: str
) -> None:
    limited = load(directory, "error_429_rate_limit")
    ok = load(directory, "text_stream" if streaming else "text_nonstream")
    server.add(
        directory, status=429, headers={**limited.headers, "retry-after": "0"}, body=limited.body
    )
    server.add(directory, status=200, headers=ok.headers, body=ok.body)
    response = call(api, engine(server, directory, retry=FAST_RETRY), streaming=streaming)
    assert response.finish_reason == "stop"
    assert response.text == ok.expect["output_text"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("directory", ["openai-chat", "openai-responses"])
def test_a_stream_cut_mid_event_is_an_error_keeping_the_text(
    server: Site, directory: str, api: str
) -> None:
    case = load(directory, "text_stream")
    marker = case.expect["output_text"].split(" ")[3].encode()  # the 4th word's delta event
    cut = case.body.index(marker) + 3
    server.add(directory, status=200, headers=case.headers, body=case.body, cut_after=cut)
    response = call(api, engine(server, directory), streaming=True)
    assert response.finish_reason == "error"
    error = response.metadata["error"]
    assert error.reason == "network_error" and error.provider == "openai"
    expected = case.expect["output_text"]
    assert response.text and expected.startswith(response.text)
    assert len(response.text) < len(expected)


def test_an_unreachable_compatible_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = OpenAICompatible(base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0)
    target = allm.Engine(adapter=adapter, model="llama3", retry=False)
    with httpx.Client() as client:
        response = allm.generate(target, [allm.user("hi")], http_client=client)
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason in ("network_error", "timeout")
