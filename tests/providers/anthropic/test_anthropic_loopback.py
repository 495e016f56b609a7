"""End to end over real sockets (allm.testing.LoopbackServer): streaming and not, sync and
async, a 429 retried after ``Retry-After: 0``, and a connection cut in the middle of an event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from tests.providers.anthropic.support import DIRECTORY
from tests.providers.wire import check_response, load

import allm
from allm.providers.anthropic import Anthropic
from allm.testing.loopback import LoopbackServer

PATH = "/v1/messages"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


# Clients without keep-alive: every connection closes with its response, so no socket outlives
# the event loop of the async driver (a pooled client per loop would never be closed).
NO_POOL = httpx.Limits(max_keepalive_connections=0)


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    sync_client = httpx.Client(limits=NO_POOL)
    async_client = httpx.AsyncClient(limits=NO_POOL)
    yield {"http_client": sync_client, "async_http_client": async_client}
    sync_client.close()
    anyio.run(async_client.aclose)


def engine(server: LoopbackServer, clients: dict[str, Any], retry: Any = False) -> allm.Engine:
    return allm.Engine(
        adapter=Anthropic(base_url=server.url + "/v1"),
        model="claude-sonnet-4-5",
        adapter_opts=clients,
        retry=retry,
    )


def serve_case(server: LoopbackServer, name: str, **fields: Any) -> Any:
    case = load(DIRECTORY, name)
    server.add("POST", PATH, status=case.status, headers=case.headers, body=case.body, **fields)
    return case


@pytest.mark.parametrize(
    ("name", "streaming"),
    [
        ("tool_use_stream_fragmented", True),
        ("unicode_split_stream", True),
        ("text_nonstream", False),
    ],
)
def test_real_sockets(
    server: LoopbackServer, clients: dict[str, Any], driver: Any, name: str, streaming: bool
) -> None:
    case = serve_case(server, name, chunks=load(DIRECTORY, name).boundaries or [100, 101, 700])
    response = driver.generate(
        engine(server, clients), [allm.user("Hi")], api_key="loop-key", streaming=streaming
    )
    assert check_response(response, case.expect) == []
    (received,) = server.requests
    assert received.path == PATH
    assert received.headers["x-api-key"] == "loop-key"
    assert received.headers["anthropic-version"] == "2023-06-01"
    assert received.json().get("stream", False) is streaming


@pytest.mark.parametrize("streaming", [True, False])
def test_429_with_retry_after_zero_is_retried(
    server: LoopbackServer, clients: dict[str, Any], driver: Any, streaming: bool
) -> None:
    limited = load(DIRECTORY, "error_429_rate_limit")
    server.add(
        "POST",
        PATH,
        status=429,
        headers={**limited.headers, "retry-after": "0"},
        body=limited.body,
    )
    ok = serve_case(server, "text_stream" if streaming else "text_nonstream")
    response = driver.generate(
        engine(server, clients, retry={"base_delay_ms": 0, "jitter_ms": 0}),
        [allm.user("Hi")],
        api_key="k",
        streaming=streaming,
    )
    assert check_response(response, ok.expect) == []
    assert len(server.requests) == 2


def test_a_connection_cut_mid_event_keeps_the_text(
    server: LoopbackServer, clients: dict[str, Any], driver: Any
) -> None:
    case = load(DIRECTORY, "text_stream")
    cut = case.body.index(b"one mutable") + 5  # inside the third text delta's data line
    server.add("POST", PATH, status=200, headers=case.headers, body=case.body, cut_after=cut)
    response = driver.generate(engine(server, clients), [allm.user("Hi")], api_key="k")
    assert response.finish_reason == "error"
    assert (
        response.output_text
        == "Rust's borrow checker enforces at compile time that a value has either"
    )
    error = response.metadata["error"]
    assert error.reason == "network_error"
    assert response.usage.input_tokens == 24  # message_start usage survives the cut
