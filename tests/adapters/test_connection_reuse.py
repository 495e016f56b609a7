"""A finished stream hands its connection back to the pool: N sequential streams on one engine
open one TCP connection, counted on the loopback server (behaviour, not timing). A stream left
early closes its connection exactly once and the next call opens a fresh one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.providers.wire import load

import allm
from allm.adapters.http import DEFAULT_KEEPALIVE_CONNECTIONS, DEFAULT_MAX_CONNECTIONS
from allm.errors import ConfigurationError
from allm.events import MessageCompleted, TextDelta
from allm.providers.anthropic import Anthropic
from allm.providers.gemini import Gemini
from allm.providers.openai import OpenAI
from allm.testing.loopback import LoopbackServer

# wire name -> (fixture directory, path served, adapter class, model, adapter options)
WIRES: dict[str, tuple[str, str, type[Any], str, dict[str, Any]]] = {
    "openai_chat": ("openai-chat", "/v1/chat/completions", OpenAI, "gpt-4o-mini", {}),
    "openai_responses": (
        "openai-responses",
        "/v1/responses",
        OpenAI,
        "gpt-4o-mini",
        {"endpoint": "responses"},
    ),
    "anthropic": ("anthropic", "/v1/messages", Anthropic, "claude-sonnet-4-5", {}),
    "gemini": (
        "gemini",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        Gemini,
        "gemini-2.0-flash",
        {},
    ),
}


def event_offsets(body: bytes) -> list[int]:
    """One HTTP chunk per SSE event, as LLM servers write them."""
    separator = b"\r\n\r\n" if b"\r\n\r\n" in body else b"\n\n"
    offsets, start = [], 0
    while (found := body.find(separator, start)) != -1:
        start = found + len(separator)
        offsets.append(start)
    return offsets


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def serve(server: LoopbackServer, wire: str) -> tuple[allm.Engine, Any]:
    directory, path, adapter_class, model, opts = WIRES[wire]
    case = load(directory, "text_stream")
    server.add("POST", path, headers=case.headers, body=case.body, chunks=event_offsets(case.body))
    adapter = adapter_class(base_url=server.url + path.split("/")[0] + "/" + path.split("/")[1])
    return allm.Engine(adapter=adapter, model=model, adapter_opts=opts, retry=False), adapter


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_ten_sequential_streams_use_one_connection(server: LoopbackServer, wire: str) -> None:
    engine, adapter = serve(server, wire)
    try:
        for _ in range(10):
            response = allm.generate(engine, [allm.user("Hi")], api_key="k")
            assert response.finish_reason == "stop", response.metadata.get("error")
            assert response.text
    finally:
        adapter.close()
    assert len(server.requests) == 10
    assert server.connections == 1


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_ten_sequential_async_streams_use_one_connection(server: LoopbackServer, wire: str) -> None:
    engine, _ = serve(server, wire)

    async def main() -> None:
        for _ in range(10):
            response = await allm.agenerate(engine, [allm.user("Hi")], api_key="k")
            assert response.finish_reason == "stop", response.metadata.get("error")

    asyncio.run(main())
    assert len(server.requests) == 10
    assert server.connections == 1


@pytest.mark.parametrize("wire", ["openai_chat", "anthropic"])
def test_stopping_at_the_terminal_event_still_reuses(server: LoopbackServer, wire: str) -> None:
    engine, adapter = serve(server, wire)
    try:
        for _ in range(3):
            with allm.stream_generate(engine, [allm.user("Hi")], api_key="k") as stream:
                for event in stream:
                    if isinstance(event, MessageCompleted):
                        break
    finally:
        adapter.close()
    assert server.connections == 1


@pytest.mark.parametrize("wire", ["openai_chat", "anthropic"])
def test_a_stream_left_early_drops_its_connection_once(server: LoopbackServer, wire: str) -> None:
    engine, adapter = serve(server, wire)
    try:
        stream = allm.stream_generate(engine, [allm.user("Hi")], api_key="k")
        assert any(isinstance(event, TextDelta) for event in stream)  # stops at the first
        stream.close()
        stream.close()  # the second close does nothing
        response = allm.generate(engine, [allm.user("Hi")], api_key="k")
        assert response.finish_reason == "stop"
        response = allm.generate(engine, [allm.user("Hi")], api_key="k")
    finally:
        adapter.close()
    # The abandoned body is not read to its end: its connection is dropped, not reused.
    assert server.connections == 2
    assert len(server.requests) == 3


def test_a_long_tail_after_the_terminal_event_is_cut(server: LoopbackServer) -> None:
    body = load("openai-chat", "text_stream").body + b": padding\n" * 20_000
    server.add(
        "POST",
        "/v1/chat/completions",
        headers={"content-type": "text/event-stream"},
        body=body,
        chunks=list(range(4096, len(body), 4096)),
    )
    adapter = OpenAI(base_url=server.url + "/v1")
    engine = allm.Engine(adapter=adapter, model="gpt-4o-mini", retry=False)
    try:
        for _ in range(2):
            response = allm.generate(engine, [allm.user("Hi")], api_key="k")
            assert response.finish_reason == "stop"
    finally:
        adapter.close()
    assert server.connections == 2


def pool_limits(adapter: Any, opts: dict[str, Any]) -> tuple[int, int]:
    """The sync pool's most connections and most kept alive."""
    from allm.adapters import Call

    call = Call("r", allm.Engine(adapter=adapter), adapter_opts=opts)
    pool = adapter.transport(call).sync_client()._transport._pool
    return int(pool._max_connections), int(pool._max_keepalive_connections)


def pool_limit(adapter: Any, opts: dict[str, Any]) -> int:
    return pool_limits(adapter, opts)[0]


def test_pools_hold_max_connections() -> None:
    adapter = OpenAI(base_url="http://127.0.0.1:9/v1")
    try:
        assert pool_limit(adapter, {}) == DEFAULT_MAX_CONNECTIONS >= 1000
        assert pool_limit(adapter, {"max_connections": 3}) == 3
        # A small pool keeps all its connections alive, a large one at most the default.
        assert pool_limits(adapter, {"max_connections": 3})[1] == 3
        assert (
            pool_limits(adapter, {})[1] == DEFAULT_KEEPALIVE_CONNECTIONS < DEFAULT_MAX_CONNECTIONS
        )
    finally:
        adapter.close()
    own = Anthropic(max_connections=7)
    try:
        assert pool_limit(own, {}) == 7
        assert pool_limit(own, {"max_connections": 9}) == 9
    finally:
        own.close()


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10", True])
def test_a_bad_max_connections_raises_before_any_io(server: LoopbackServer, bad: Any) -> None:
    engine, adapter = serve(server, "openai_chat")
    with pytest.raises(ConfigurationError, match="max_connections"):
        allm.stream_generate(engine, [allm.user("Hi")], api_key="k", max_connections=bad)
    with pytest.raises(ConfigurationError, match="max_connections"):
        allm.generate(engine, [allm.user("Hi")], api_key="k", max_connections=bad, streaming=False)
    adapter.close()
    assert server.requests == []


def slow_streams(server: LoopbackServer, concurrent: int, delay: float, **opts: Any) -> int:
    """Run ``concurrent`` async streams whose server pauses between events; the most streams
    the server served at once."""
    case = load("openai-chat", "text_stream")
    server.add(
        "POST",
        "/v1/chat/completions",
        headers=case.headers,
        body=case.body,
        chunks=event_offsets(case.body)[:2],
        delay=delay,
    )
    engine = allm.Engine(
        adapter=OpenAI(base_url=server.url + "/v1"),
        model="gpt-4o-mini",
        adapter_opts=opts,
        retry=False,
    )

    async def main() -> None:
        async def one() -> None:
            response = await allm.agenerate(engine, [allm.user("Hi")], api_key="k")
            assert response.finish_reason == "stop", response.metadata.get("error")

        await asyncio.gather(*(one() for _ in range(concurrent)))

    asyncio.run(main())
    return server.max_in_flight


def test_concurrent_streams_are_not_queued_behind_a_small_pool(server: LoopbackServer) -> None:
    # httpx's own default pool (100 connections) would hold the 101st stream back.
    # Each stream stays open for about three seconds: time for all of them to connect.
    assert slow_streams(server, 120, 1.0) > 100
    assert server.connections == 120


def test_max_connections_bounds_the_pool(server: LoopbackServer) -> None:
    assert slow_streams(server, 12, 0.2, max_connections=4) <= 4
    assert server.connections <= 4
