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


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def engine_for(server: FaultServer, **retry: Any) -> allm.Engine:
    return allm.Engine(
        adapter=OpenAI(base_url=server.url + "/v1"),
        model="gpt-4o",
        retry={**FAST_RETRY, **retry},
    )


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


def test_reset_mid_event_keeps_the_whole_events_before_it(server, driver):
    engine, leaks = scenario(server, driver)
    half = text_event("lost")[:20]
    server.add(PATH, Send(head(200, SSE, chunked=True) + chunk(text_event("kept") + half)), Reset())

    response = call(driver, engine)

    assert response.error.reason == "network_error"
    assert response.text == "kept"
    leaks.assert_next_call_succeeds_without_leaks()


def test_truncated_chunked_encoding_is_a_network_error_with_the_text_kept(server, driver):
    engine, leaks = scenario(server, driver)
    body = text_event("part")
    server.add(
        PATH, Send(head(200, SSE, chunked=True) + chunk(body) + b"400\r\n" + b"data: {"), Close()
    )

    response = call(driver, engine)

    assert response.finish_reason == "error"
    assert response.error.reason == "network_error"
    assert response.text == "part"
    leaks.assert_next_call_succeeds_without_leaks()


# -- silence and slowness ----------------------------------------------------------------------


def test_a_stall_after_headers_is_a_timeout_retried_like_a_failed_open(server, driver):
    engine, leaks = scenario(server, driver, max_attempts=2)
    server.add(PATH, Send(head(200, SSE, chunked=True)), Stall(5))
    before = len(server.requests)

    response = call(driver, engine, stream_timeout=0.3)

    assert response.error.reason == "timeout"
    assert response.text == ""
    assert len(server.requests) - before == 2  # nothing was delivered, so it was retried
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_stall_mid_stream_is_a_timeout_with_the_text_kept(server, driver):
    engine, leaks = scenario(server, driver)
    server.add(PATH, Send(head(200, SSE, chunked=True) + chunk(text_event("so far"))), Stall(5))

    response = call(driver, engine, stream_timeout=0.3)

    assert response.error.reason == "timeout"
    assert response.text == "so far"
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_slow_drip_is_read_whole(server, driver):
    engine, leaks = scenario(server, driver)
    body = sse_body("drip ", "by ", "drip")
    server.add(PATH, Send(head(200, SSE, length=len(body))), Drip(body, every=0.0005, size=7))

    assert call(driver, engine).text == "drip by drip"
    leaks.assert_next_call_succeeds_without_leaks()


# -- bytes that are not what they claim --------------------------------------------------------


def test_a_100_mb_line_is_a_malformed_response_with_the_text_kept(server, driver):
    engine, leaks = scenario(server, driver)
    server.add(
        PATH,
        Send(head(200, SSE, chunked=True) + chunk(text_event("before")) + chunk(b"data: ")),
        Flood(100 * 1024 * 1024),
        Send(last_chunk()),
    )

    response = call(driver, engine)

    assert response.error.reason == "malformed_response"
    assert response.text == "before"
    leaks.assert_next_call_succeeds_without_leaks()


def test_invalid_utf8_is_replaced_not_fatal(server, driver):
    engine, leaks = scenario(server, driver)
    good = text_event("ok ")
    bad = good.replace(b"ok ", b"\xff\xfe!")
    body = good + bad + finish_event() + b"data: [DONE]\n\n"
    server.add(PATH, Send(head(200, SSE, length=len(body)) + body))

    response = call(driver, engine)

    assert response.finish_reason == "stop"
    assert response.text == "ok \ufffd\ufffd!"
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_gzip_stream_is_decoded(server, driver):
    engine, leaks = scenario(server, driver)
    body = gzip.compress(sse_body("zipped ", "text"))
    headers = {**SSE, "content-encoding": "gzip"}
    server.add(PATH, Send(head(200, headers, length=len(body)) + body))

    assert call(driver, engine).text == "zipped text"
    leaks.assert_next_call_succeeds_without_leaks()


def test_a_broken_gzip_stream_is_a_malformed_response(server, driver):
    engine, leaks = scenario(server, driver)
    body = b"\x1f\x8b\x08\x00garbage-that-is-not-deflate" * 4
    headers = {**SSE, "content-encoding": "gzip"}
    server.add(PATH, Send(head(200, headers, length=len(body)) + body))

    response = call(driver, engine)

    assert response.error.reason == "malformed_response"
    assert response.text == ""
    leaks.assert_next_call_succeeds_without_leaks()


def test_an_html_200_is_a_malformed_response(server, driver):
    engine, leaks = scenario(server, driver)
    body = b"<html><body>Bad gateway, try later</body></html>"
    server.add(PATH, Send(head(200, {"content-type": "text/html"}, length=len(body)) + body))

    response = call(driver, engine)

    assert response.error.reason == "malformed_response"
    assert response.text == ""
    leaks.assert_next_call_succeeds_without_leaks()


# -- rate limits, deadlines, refused and dead connections --------------------------------------


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
    engine = allm.Engine(
        adapter=OpenAI(base_url=f"http://127.0.0.1:{port}/v1"),
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
