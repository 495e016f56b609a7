"""Bedrock end to end over real sockets (allm.testing.LoopbackServer): the AWS event-stream frames
written in pieces that cut preludes, headers and CRCs, streaming and not, sync and async; the
SigV4 signature the server receives checked by botocore's own signer; a throttled open retried; a
connection cut inside a frame, and a frame with a bad CRC."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from tests.providers.wire import check_response, load

import allm
from allm.testing.loopback import Answer, LoopbackServer, ReceivedRequest

from .cases import MODEL, by_name
from .support import ACCESS_KEY, SECRET_KEY, adapter

PATH = f"/model/{MODEL.replace(':', '%3A')}"
# Clients without keep-alive: every connection closes with its response, so no socket outlives
# the event loop of the async driver.
NO_POOL = httpx.Limits(max_keepalive_connections=0)
# Writes that cut a prelude (4 of 12 bytes), a header name, a payload and a message CRC.
CUTS = [1, 4, 12, 13, 30, 99, 100, 250, 251, 600]
_AUTH = re.compile(
    r"Credential=([^/]+)/(\d{8})/([^/]+)/bedrock/aws4_request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})"
)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    sync_client = httpx.Client(limits=NO_POOL)
    async_client = httpx.AsyncClient(limits=NO_POOL)
    yield {"http_client": sync_client, "async_http_client": async_client}
    sync_client.close()
    anyio.run(async_client.aclose)


def engine(server: LoopbackServer, clients: dict[str, Any], retry: Any = False) -> allm.Engine:
    return allm.Engine(
        adapter=adapter(base_url=server.url), model=MODEL, adapter_opts=clients, retry=retry
    )


def action(streaming: bool) -> str:
    return f"{PATH}/{'converse-stream' if streaming else 'converse'}"


def serve(server: LoopbackServer, name: str, **fields: Any) -> Any:
    case = load("bedrock", name)
    server.add(
        "POST",
        action(case.expect["stream"]),
        status=case.status,
        headers=case.headers,
        body=case.body,
        **fields,
    )
    return case


def check_signature(server: LoopbackServer, received: ReceivedRequest) -> None:
    """Sign the request as received again with botocore, at its own time: same signature."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {k.lower(): v for k, v in received.headers.items()}
    found = _AUTH.search(lower["authorization"])
    assert found is not None, lower["authorization"]
    access, _, region, signed_names, signature = found.groups()
    assert (access, region) == (ACCESS_KEY, "us-east-1")
    signed = {name: lower[name] for name in signed_names.split(";")}
    request = AWSRequest(
        method="POST", url=server.url + received.path, data=received.body, headers=signed
    )
    request.context["timestamp"] = lower["x-amz-date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", region)
    canonical = signer.canonical_request(request)
    assert signer.signature(signer.string_to_sign(request, canonical), request) == signature


SOCKET_CASES = [
    "text_stream",
    "tool_call_stream",
    "reasoning_stream",
    "cached_usage_stream",
    "stream_exception_throttling",
    "text_nonstream",
    "tool_call_nonstream",
]


def test_real_sockets(server: LoopbackServer, clients: dict[str, Any], driver: Any) -> None:
    """Every case through one server (each answer set just before its call)."""
    current: dict[str, Answer] = {}
    for streaming in (True, False):
        server.route("POST", action(streaming), lambda received: current["answer"])
    for name in SOCKET_CASES:
        case = load("bedrock", name)
        current["answer"] = Answer(case.status, case.headers, case.body, chunks=CUTS)
        response = driver.generate(
            engine(server, clients), by_name(name).build(), streaming=case.expect["stream"]
        )
        assert check_response(response, case.expect) == [], name
        received = server.requests[-1]
        assert received.path == action(case.expect["stream"])
        assert received.json() == case.request["body"]
        check_signature(server, received)
    assert len(server.requests) == len(SOCKET_CASES)
    assert [whole for _, whole in server.finished] == [True] * len(SOCKET_CASES)


def test_a_throttled_open_is_retried(
    server: LoopbackServer, clients: dict[str, Any], driver: Any
) -> None:
    limited = load("bedrock", "error_429_throttling")
    server.add(
        "POST",
        action(True),
        status=429,
        headers={**limited.headers, "retry-after": "0"},
        body=limited.body,
    )
    ok = serve(server, "text_stream", chunks=CUTS)
    response = driver.generate(
        engine(server, clients, retry={"base_delay_ms": 0, "jitter_ms": 0}),
        by_name("text_stream").build(),
    )
    assert check_response(response, ok.expect) == []
    assert len(server.requests) == 2
    for received in server.requests:  # each attempt is signed afresh
        check_signature(server, received)


def test_a_connection_cut_inside_a_frame_keeps_the_text(
    server: LoopbackServer, clients: dict[str, Any], driver: Any
) -> None:
    case = load("bedrock", "text_stream")
    cut = case.body.index(b"How can I help?") + 3  # inside the third text frame's payload
    answer = Answer(200, case.headers, case.body, chunks=CUTS, cut_after=cut)
    server.add("POST", action(True), answer)
    response = driver.generate(engine(server, clients), by_name("text_stream").build())
    assert response.finish_reason == "error"
    assert response.output_text == "Hello!"
    assert response.metadata["error"].reason == "network_error"


def test_a_frame_with_a_bad_crc_is_malformed_and_keeps_what_came_before(
    server: LoopbackServer, clients: dict[str, Any], driver: Any
) -> None:
    case = serve(server, "stream_crc_mismatch", chunks=CUTS)
    response = driver.generate(engine(server, clients), by_name("stream_crc_mismatch").build())
    assert check_response(response, case.expect) == []
    assert response.metadata["error"].reason == "malformed_response"
