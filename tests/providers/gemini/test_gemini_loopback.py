"""End to end over real sockets (allm.testing.LoopbackServer): streaming and not, sync and async,
a 429 retried then answered, and a connection cut mid-event."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from tests.conftest import Driver
from tests.providers.gemini.support import KEY
from tests.providers.wire import check_response, load

import allm
from allm.providers.gemini import Gemini
from allm.testing.loopback import LoopbackServer

_models = itertools.count()


@pytest.fixture(scope="module")
def running() -> Iterator[LoopbackServer]:
    with LoopbackServer() as started:
        yield started


@dataclass
class Site:
    """One test's corner of the shared server: its own model name (so its own paths) and its own
    HTTP clients, closed when the test ends."""

    server: LoopbackServer
    model: str
    client: httpx.Client
    async_client: httpx.AsyncClient

    @property
    def stream_path(self) -> str:
        return f"/v1beta/models/{self.model}:streamGenerateContent"

    @property
    def whole_path(self) -> str:
        return f"/v1beta/models/{self.model}:generateContent"

    @property
    def requests(self) -> list[Any]:
        return [r for r in self.server.requests if f"/models/{self.model}:" in r.path]


@pytest.fixture
def server(running: LoopbackServer) -> Iterator[Site]:
    # No keep-alive: every connection is closed when its exchange ends, in its own event loop.
    limits = httpx.Limits(max_keepalive_connections=0)
    site = Site(
        running,
        f"gemini-loop-{next(_models)}",
        httpx.Client(limits=limits),
        httpx.AsyncClient(limits=limits),
    )
    try:
        yield site
    finally:
        site.client.close()
        anyio.run(site.async_client.aclose)


def engine(site: Site, **fields: Any) -> allm.Engine:
    fields.setdefault("retry", False)
    return allm.Engine(
        adapter=Gemini(base_url=site.server.url + "/v1beta"),
        model=site.model,
        adapter_opts={"http_client": site.client, "async_http_client": site.async_client},
        **fields,
    )


def serve(site: Site, path: str, name: str, **answer: Any) -> Any:
    case = load("gemini", name)
    site.server.add(
        "POST", path, status=case.status, headers=case.headers, body=case.body, **answer
    )
    return case


def test_streaming_over_sockets(driver: Driver, server: Site) -> None:
    case = serve(server, server.stream_path, "thinking_stream", chunks=[7, 100, 101, 900, 2000])
    response = driver.generate(engine(server), [allm.user("hi")], api_key=KEY)
    expect = dict(case.expect, model="gemini-2.5-pro")
    assert check_response(response, expect) == []
    (received,) = server.requests
    assert received.path == server.stream_path + "?alt=sse"
    assert received.headers["x-goog-api-key"] == KEY
    assert received.json()["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_non_streaming_over_sockets(driver: Driver, server: Site) -> None:
    case = serve(server, server.whole_path, "tool_call_nonstream")
    response = driver.generate(engine(server), [allm.user("hi")], api_key=KEY, streaming=False)
    assert check_response(response, case.expect) == []
    assert server.requests[0].path == server.whole_path


def test_event_stream_over_sockets(driver: Driver, server: Site) -> None:
    serve(
        server,
        server.stream_path,
        "unicode_split_stream",
        chunks=load("gemini", "unicode_split_stream").boundaries,
    )
    events = driver.events(engine(server), [allm.user("hi")], api_key=KEY)
    text = "".join(getattr(e, "delta", "") for e in events if type(e).__name__ == "TextDelta")
    assert text == "Grüße aus München — 東京は晴れです 🚀✨ Ça va?"


@pytest.mark.parametrize("streaming", [True, False])
def test_429_with_retry_after_zero_is_retried_then_succeeds(
    driver: Driver, server: Site, streaming: bool
) -> None:
    path = server.stream_path if streaming else server.whole_path
    limited = load("gemini", "error_429_array_wrapped")
    server.server.add(
        "POST",
        path,
        status=429,
        headers={"content-type": "application/json; charset=UTF-8", "retry-after": "0"},
        body=limited.body.replace(b'"38.601s"', b'"0s"'),
    )
    ok = serve(server, path, "text_stream" if streaming else "text_nonstream")
    retrying = engine(server, retry={"base_delay_ms": 0, "jitter_ms": 0})
    response = driver.generate(retrying, [allm.user("hi")], api_key=KEY, streaming=streaming)
    assert response.finish_reason == "stop"
    assert response.text == ok.expect["output_text"]
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_a_connection_cut_mid_event_is_an_error_with_the_text_kept(
    driver: Driver, server: Site
) -> None:
    case = load("gemini", "text_stream")
    first_event_end = case.body.index(b"\r\n\r\n") + 4
    serve(server, server.stream_path, "text_stream", cut_after=first_event_end + 40)
    response = driver.generate(engine(server), [allm.user("hi")], api_key=KEY)
    assert response.finish_reason == "error"
    assert response.error.reason == "network_error"
    assert response.text == "Rust's borrow checker enforces at compile time that a"
    assert response.usage.input_tokens == 12


def test_a_server_error_is_an_error_response_over_sockets(driver: Driver, server: Site) -> None:
    case = serve(server, server.stream_path, "error_400_api_key_invalid")
    response = driver.generate(engine(server), [allm.user("hi")], api_key=KEY)
    assert check_response(response, case.expect) == []
