"""Fault injection over a real loopback server that misbehaves byte by byte.

For each fault: the error reason, the text kept, the next call succeeding, no leaked file
descriptors. Timing is asserted loosely only (a shared, noisy machine).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import allm
from allm.providers import OpenAI
from allm.testing.faults import (
    Close,
    Drip,
    FaultServer,
    Flood,
    Reset,
    Send,
    Stall,
    chunk,
    head,
    last_chunk,
)

PATH = "/v1/chat/completions"
SSE = {"content-type": "text/event-stream"}
FAST_RETRY = {"base_delay_ms": 10, "jitter_ms": 0}


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def text_event(text: str) -> bytes:
    return event({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]})


def finish_event() -> bytes:
    return event(
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )


def sse_body(*texts: str) -> bytes:
    return b"".join(text_event(t) for t in texts) + finish_event() + b"data: [DONE]\n\n"


def ok_stream(*texts: str) -> tuple[Send, ...]:
    """A well-behaved streamed answer with a content-length (the connection stays alive)."""
    body = sse_body(*texts)
    return (Send(head(200, SSE, length=len(body)) + body),)


def ok_json(text: str) -> tuple[Send, ...]:
    """A whole (non-streamed) answer: read to its end, so its connection goes back to the pool."""
    body = json.dumps(
        {
            "id": "c1",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()
    return (Send(head(200, {"content-type": "application/json"}, length=len(body)) + body),)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


_ADAPTERS: list[OpenAI] = []


@pytest.fixture(autouse=True)
def close_pools() -> Iterator[None]:
    """Each test's adapters close their pools when it ends (no socket left to the collector)."""
    yield
    while _ADAPTERS:
        _ADAPTERS.pop().close()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def engine_for(server: FaultServer, **retry: Any) -> allm.Engine:
    adapter = OpenAI(base_url=server.url + "/v1")
    _ADAPTERS.append(adapter)
    return allm.Engine(adapter=adapter, model="gpt-4o", retry={**FAST_RETRY, **retry})


def call(driver: Any, engine: allm.Engine, **opts: Any) -> allm.Response:
    return driver.generate(engine, [allm.user("hi")], api_key="sk-fault-test-key", **opts)


class Leaks:
    """Counts this process's descriptors around a scenario (the server lives here too)."""

    def __init__(self, server: FaultServer, driver: Any, engine: allm.Engine) -> None:
        self.server, self.driver, self.engine = server, driver, engine
        server.add(PATH, *ok_json("warm"))
        # Read whole, so (under the sync API) the pool now holds a kept-alive connection.
        assert call(driver, engine, streaming=False).text == "warm"
        server.clear()
        self.before = open_fds()

    def assert_next_call_succeeds_without_leaks(self) -> None:
        self.server.clear()
        self.server.add(PATH, *ok_stream("next ", "call"))
        assert call(self.driver, self.engine).text == "next call"
        deadline = time.monotonic() + 3
        while open_fds() > self.before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert open_fds() <= self.before


def scenario(server: FaultServer, driver: Any, **retry: Any) -> tuple[allm.Engine, Leaks]:
    engine = engine_for(server, **retry)
    return engine, Leaks(server, driver, engine)


# -- resets ------------------------------------------------------------------------------------


def test_reset_before_headers_is_retried_then_fails_as_network_error(server, driver):
    engine, leaks = scenario(server, driver)
    server.add(PATH, Reset())
    before = len(server.requests)

    response = call(driver, engine)

    assert response.finish_reason == "error"
    assert response.error.reason == "network_error"
    assert response.text == ""
    # Under the sync API the first reset hits the pooled connection (sent again at once, on a
    # fresh one); then the policy's attempts each open a fresh connection.
    assert len(server.requests) - before == (4 if driver.name == "sync" else 3)
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_reset_before_headers_then_an_answer_succeeds(server, driver):
    engine, leaks = scenario(server, driver, max_attempts=3)
    server.add(PATH, Reset())
    server.add(PATH, Reset())
    server.add(PATH, *ok_stream("after ", "resets"))

    assert call(driver, engine).text == "after resets"
    leaks.assert_next_call_succeeds_without_leaks()


def test_reset_mid_body_keeps_the_text_and_is_not_retried(server, driver):
    engine, leaks = scenario(server, driver)
    server.add(
        PATH,
        Send(head(200, SSE, chunked=True) + chunk(text_event("Hel") + text_event("lo"))),
        Reset(),
    )
    before = len(server.requests)

    response = call(driver, engine)

    assert response.finish_reason == "error"
    assert response.error.reason == "network_error"
    assert response.text == "Hello"
    assert len(server.requests) - before == 1  # text was delivered: never sent again
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_stall_after_headers_is_a_timeout_and_is_not_sent_again(server, driver):
    engine, leaks = scenario(server, driver, max_attempts=2)
    server.add(PATH, Send(head(200, SSE, chunked=True)), Stall(5))
    before = len(server.requests)

    response = call(driver, engine, stream_timeout=0.3)

    assert response.error.reason == "timeout"
    assert response.text == ""
    # The server may be working on it (a model thinking): a resend would pay twice.
    assert len(server.requests) - before == 1
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_reset_after_headers_before_any_byte_is_retried(server, driver):
    engine, leaks = scenario(server, driver, max_attempts=2)
    server.add(PATH, Send(head(200, SSE, chunked=True)), Reset())
    server.add(PATH, *ok_stream("second ", "try"))

    assert call(driver, engine).text == "second try"
    leaks.assert_next_call_succeeds_without_leaks()


CHUNKED = head(200, SSE, chunked=True)
GOOD_BODY = sse_body("drip ", "by ", "drip")
ZIPPED = gzip.compress(sse_body("zipped ", "text"))
BROKEN_ZIP = b"\x1f\x8b\x08\x00garbage-that-is-not-deflate" * 4
HTML = b"<html><body>Bad gateway, try later</body></html>"
BAD_UTF8 = text_event("ok ") + text_event("ok ").replace(b"ok ", b"\xff\xfe!")
BAD_UTF8 += finish_event() + b"data: [DONE]\n\n"


def whole(body: bytes, headers: dict[str, str] | None = None) -> Send:
    return Send(head(200, headers or SSE, length=len(body)) + body)


# name: (script, call keywords, error reason or None for a clean stop, text kept)
BODY_FAULTS: dict[str, tuple[tuple[Any, ...], dict[str, Any], str | None, str]] = {
    "reset mid-event": (
        (Send(CHUNKED + chunk(text_event("kept") + text_event("lost")[:20])), Reset()),
        {}, "network_error", "kept",
    ),
    "truncated chunked encoding": (
        (Send(CHUNKED + chunk(text_event("part")) + b"400\r\n" + b"data: {"), Close()),
        {}, "network_error", "part",
    ),
    "stall mid-stream": (
        (Send(CHUNKED + chunk(text_event("so far"))), Stall(5)),
        {"stream_timeout": 0.3}, "timeout", "so far",
    ),
    "slow drip": (
        (Send(head(200, SSE, length=len(GOOD_BODY))), Drip(GOOD_BODY, every=0.0005, size=7)),
        {}, None, "drip by drip",
    ),
    "100 MB line": (
        (Send(CHUNKED + chunk(text_event("before")) + chunk(b"data: ")),
         Flood(100 * 1024 * 1024), Send(last_chunk())),
        {}, "malformed_response", "before",
    ),
    "invalid UTF-8 (replaced, not fatal)": (
        (whole(BAD_UTF8),), {}, None, "ok \ufffd\ufffd!",
    ),
    "gzip": (
        (whole(ZIPPED, {**SSE, "content-encoding": "gzip"}),), {}, None, "zipped text",
    ),
    "broken gzip": (
        (whole(BROKEN_ZIP, {**SSE, "content-encoding": "gzip"}),), {}, "malformed_response", "",
    ),
    "HTML 200": (
        (whole(HTML, {"content-type": "text/html"}),), {}, "malformed_response", "",
    ),
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(BODY_FAULTS))
def test_a_body_that_misbehaves_keeps_what_came(server, driver, fault):
    script, opts, reason, text = BODY_FAULTS[fault]
    engine, leaks = scenario(server, driver)
    server.add(PATH, *script)

    response = call(driver, engine, **opts)

    if reason is None:
        assert response.finish_reason == "stop"
    else:
        assert response.finish_reason == "error"
        assert response.error.reason == reason
    assert response.text == text
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_429_with_a_day_long_retry_after_returns_at_once(server, driver):
    engine, leaks = scenario(server, driver)
    body = b'{"error": {"message": "slow down", "type": "rate_limit_error"}}'
    server.add(
        PATH,
        Send(
            head(
                429, {"retry-after": "86400", "content-type": "application/json"}, length=len(body)
            )
            + body
        ),
    )
    before = len(server.requests)
    started = time.monotonic()

    response = call(driver, engine)

    assert time.monotonic() - started < 3
    assert response.error.reason == "rate_limited"
    assert response.error.retry_after_ms == 86_400_000
    assert len(server.requests) - before == 1
    leaks.assert_next_call_succeeds_without_leaks()


DEADLINE_FAULTS = {
    "silent before headers": (Stall(10),),
    "stall after headers": (Send(head(200, SSE, chunked=True)), Stall(10)),
    "stall mid-stream": (Send(head(200, SSE, chunked=True) + chunk(text_event("a"))), Stall(10)),
    "endless drip": (
        Send(head(200, SSE, chunked=True)),
        Drip(b"".join(chunk(text_event("d")) for _ in range(200)), every=0.05, size=40),
    ),
    "429 asking for a second": (
        Send(head(429, {"retry-after": "1", "content-type": "application/json"}, length=2) + b"{}"),
    ),
}


@pytest.mark.parametrize("fault", sorted(DEADLINE_FAULTS))
def test_a_deadline_ends_the_call_whatever_the_server_does(server, driver, fault):
    engine, leaks = scenario(server, driver, deadline_ms=500, max_attempts=10)
    server.add(PATH, *DEADLINE_FAULTS[fault])
    started = time.monotonic()

    response = call(driver, engine)

    assert time.monotonic() - started < 3  # about 0.5 s; loose for a shared machine
    assert response.finish_reason == "error"
    expected = "rate_limited" if fault.startswith("429") else "timeout"
    assert response.error.reason == expected
    if fault in ("stall mid-stream", "endless drip"):
        assert response.text.startswith("d" if fault == "endless drip" else "a")
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_deadline_ends_a_whole_body_read_that_stalls(server, driver):
    engine, leaks = scenario(server, driver, deadline_ms=500)
    server.add(
        PATH,
        Send(head(200, {"content-type": "application/json"}, length=500) + b'{"id"'),
        Stall(10),
    )
    started = time.monotonic()

    response = call(driver, engine, streaming=False)

    assert time.monotonic() - started < 3
    assert response.error.reason == "timeout"
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_refused_connection_is_retried_until_the_server_is_up(driver):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connections are refused
    late: list[FaultServer] = []

    def start_late() -> None:
        time.sleep(0.2)
        late.append(FaultServer(port).start())
        late[0].add(PATH, *ok_stream("came ", "up"))

    starter = threading.Thread(target=start_late)
    starter.start()
    adapter = OpenAI(base_url=f"http://127.0.0.1:{port}/v1")
    _ADAPTERS.append(adapter)
    engine = allm.Engine(
        adapter=adapter,
        model="gpt-4o",
        retry={"base_delay_ms": 150, "jitter_ms": 0, "max_attempts": 6},
    )
    try:
        response = call(driver, engine)
    finally:
        starter.join()
        late[0].stop()

    assert response.text == "came up"


def test_a_dead_pooled_connection_is_sent_again_once_without_the_policy(server, driver):
    engine = engine_for(server, max_attempts=1)  # no retry at all under the policy
    server.add(PATH, *ok_json("first"))
    server.add(PATH, Close())  # the server drops the kept-alive connection on the next request
    server.add(PATH, *ok_stream("second"))

    if driver.name == "async":
        # One event loop for both calls, so the second reuses the first one's connection.
        import anyio

        async def both() -> list[str]:
            out = []
            for streaming in (False, True):
                response = await allm.agenerate(
                    engine, [allm.user("hi")], api_key="sk-fault-k", streaming=streaming
                )
                out.append(response.text)
            return out

        texts = anyio.run(both)
    else:
        texts = [call(driver, engine, streaming=False).text, call(driver, engine).text]

    assert texts == ["first", "second"]
    connections = [received.connection for received in server.requests]
    assert len(connections) == 3
    assert connections[0] == connections[1] != connections[2]
