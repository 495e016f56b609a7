"""The HTTP adapter base, driven through a tiny line-protocol adapter over httpx.MockTransport:
retry before the first event, failures as data, early exit closing the response exactly once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

import allm
from allm.adapters import Call
from allm.adapters.base import HttpAdapter, StreamDecoder, retry_after_ms
from allm.adapters.http import HttpRequest, HttpResult
from allm.adapters.sse import SSEEvent
from allm.data.messages import Message, Role
from allm.events import (
    ErrorEvent,
    Event,
    MessageCompleted,
    MessageStarted,
    TextCompleted,
    TextDelta,
)


class LineDecoder(StreamDecoder):
    def __init__(self) -> None:
        self.text: list[str] = []
        self.done = False

    def feed(self, event: SSEEvent) -> list[Event]:
        if event.data == "[END]":
            self.done = True
            full = "".join(self.text)
            return [TextCompleted(full), MessageCompleted(Message(Role.ASSISTANT, full), "stop")]
        self.text.append(event.data)
        return [TextDelta(event.data)]

    def finish(self) -> list[Event]:
        error = allm.AdapterError("network_error", "stream ended before its terminal event")
        return [ErrorEvent(error)]


class LineAdapter(HttpAdapter):
    name = "line"
    key_provider = "line"
    default_base_url = "https://line.invalid"

    def build_request(self, request: allm.Request, call: Call, *, stream: bool) -> HttpRequest:
        key = self.api_key(call)
        body = {"prompt": request.messages[-1].text, "stream": stream}
        return self.json_request(call, self.base(call) + "/say", body, {"authorization": key})

    def stream_decoder(self, request: allm.Request, call: Call) -> StreamDecoder:
        return LineDecoder()

    def parse_response(
        self, result: HttpResult, request: allm.Request, call: Call
    ) -> allm.Response:
        text = json.loads(result.body)["text"]
        return allm.Response(output_text=text, finish_reason="stop")

    def classify_error(self, result: HttpResult, call: Call) -> allm.AdapterError:
        reason = {429: "rate_limited", 401: "authentication_failed"}.get(
            result.status, "provider_unavailable"
        )
        return allm.AdapterError(
            reason,
            provider=self.name,
            status=result.status,
            retry_after_ms=retry_after_ms(result.headers),
        )


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that counts how often it is closed."""

    def __init__(self, chunks: list[bytes], counter: dict[str, int]) -> None:
        self.chunks, self.counter = chunks, counter

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    def close(self) -> None:
        self.counter["closed"] += 1

    async def aclose(self) -> None:
        self.counter["closed"] += 1


class Server:
    """Answers in order: each answer is (status, headers, chunks) or an exception to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.counter = {"closed": 0}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, headers, chunks = answer
        return httpx.Response(status, headers=headers, stream=Body(chunks, self.counter))

    def engine(self, **fields: Any) -> allm.Engine:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self(request)

        opts = {
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        }
        return allm.Engine(adapter=LineAdapter(), adapter_opts=opts, **fields)


SSE = {"content-type": "text/event-stream"}
FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0}


def events(engine: allm.Engine, api: str, **opts: Any) -> list[Event]:
    request = [allm.user("hi")]
    if api == "sync":
        return list(allm.stream_generate(engine, request, api_key="k", **opts))

    async def run() -> list[Event]:
        stream = await allm.astream_generate(engine, request, api_key="k", **opts)
        return [event async for event in stream]

    return anyio.run(run)


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_stream_decodes_and_closes_its_response_once(api: str) -> None:
    server = Server((200, SSE, [b"data: Hel", b"lo\n\ndata: [END]\n\n"]))
    got = events(server.engine(), api)
    assert [type(e) for e in got] == [MessageStarted, TextDelta, TextCompleted, MessageCompleted]
    assert server.counter["closed"] == 1
    assert server.requests[0].headers["authorization"] == "k"


def test_a_429_before_the_first_event_is_retried_then_succeeds(api: str) -> None:
    server = Server(
        (429, {"retry-after": "0"}, [b'{"error": "slow down"}']),
        (200, SSE, [b"data: ok\n\ndata: [END]\n\n"]),
    )
    seen: list[Any] = []
    handler = allm.telemetry.attach(lambda *a: seen.append(a), ["allm.adapter.retry"])
    try:
        got = events(server.engine(retry=FAST_RETRY), api)
    finally:
        allm.telemetry.detach(handler)
    assert [e.delta for e in got if isinstance(e, TextDelta)] == ["ok"]
    assert len(server.requests) == 2 and len(seen) == 1
    assert seen[0][2]["reason"] == "rate_limited"


def test_a_non_retryable_status_is_an_error_event_not_an_exception(api: str) -> None:
    server = Server((401, {}, [b"{}"]))
    got = events(server.engine(retry=FAST_RETRY), api)
    assert isinstance(got[0], MessageStarted) and isinstance(got[-1], ErrorEvent)
    assert got[-1].error.reason == "authentication_failed" and got[-1].error.status == 401
    assert len(server.requests) == 1


def test_retries_stop_at_the_policy_limit(api: str) -> None:
    server = Server((503, {}, [b"{}"]))
    got = events(server.engine(retry={**FAST_RETRY, "max_attempts": 2}), api)
    assert got[-1].error.reason == "provider_unavailable"
    assert len(server.requests) == 2


def test_a_connection_failure_before_the_stream_is_a_network_error(api: str) -> None:
    server = Server(httpx.ConnectError("refused"))
    got = events(server.engine(retry=False), api)
    assert got[-1].error.reason == "network_error"


def test_a_read_timeout_before_the_stream_is_a_timeout(api: str) -> None:
    server = Server(httpx.ReadTimeout("slow"))
    got = events(server.engine(retry=False), api)
    assert got[-1].error.reason == "timeout" and isinstance(got[-1].error, TimeoutError)


def test_a_truncated_stream_keeps_the_text_and_ends_in_error(api: str) -> None:
    server = Server((200, SSE, [b"data: partial\n\ndata: cut-mid"]))
    engine = server.engine()
    got = events(engine, api)
    assert [e.delta for e in got if isinstance(e, TextDelta)] == ["partial"]
    assert isinstance(got[-1], ErrorEvent) and got[-1].error.reason == "network_error"
    response = allm.generate(server.engine(), [allm.user("x")], api_key="k")
    assert (response.text, response.finish_reason) == ("partial", "error")


def test_an_oversized_line_ends_the_stream_with_malformed_response(api: str) -> None:
    server = Server((200, SSE, [b"data: fine\n\n", b"data: " + b"x" * 100]))
    got = events(server.engine(), api, adapter_opts={"max_sse_line_bytes": 32})
    assert [e.delta for e in got if isinstance(e, TextDelta)] == ["fine"]
    assert got[-1].error.reason == "malformed_response" and got[-1].error.provider == "line"
    assert server.counter["closed"] == 1


def test_breaking_out_early_closes_the_response_exactly_once() -> None:
    server = Server((200, SSE, [b"data: a\n\n", b"data: b\n\n", b"data: [END]\n\n"]))
    stream = allm.stream_generate(server.engine(), [allm.user("x")], api_key="k")
    for event in stream:
        if isinstance(event, TextDelta):
            break
    stream.close()
    stream.close()
    assert server.counter["closed"] == 1


@pytest.mark.anyio
async def test_async_early_exit_closes_the_response_exactly_once() -> None:
    server = Server((200, SSE, [b"data: a\n\n", b"data: b\n\n", b"data: [END]\n\n"]))
    async with await allm.astream_generate(
        server.engine(), [allm.user("x")], api_key="k"
    ) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                break
    assert server.counter["closed"] == 1


def test_non_streaming_path_parses_and_retries(api: str) -> None:
    server = Server((500, {}, [b"oops"]), (200, {}, [b'{"text": "whole"}']))
    engine = server.engine(retry=FAST_RETRY)
    if api == "sync":
        response = allm.generate(engine, [allm.user("x")], api_key="k", streaming=False)
    else:
        response = anyio.run(
            lambda: allm.agenerate(engine, [allm.user("x")], api_key="k", streaming=False)
        )
    assert (response.text, response.finish_reason) == ("whole", "stop")
    assert json.loads(server.requests[-1].content)["stream"] is False


def test_a_missing_key_fails_before_any_request() -> None:
    server = Server((200, SSE, [b"data: [END]\n\n"]))
    with pytest.raises(allm.EngineError) as info:
        allm.stream_generate(server.engine(), [allm.user("x")])
    assert info.value.reason == "missing_key" and server.requests == []
    assert "LINE_API_KEY" in str(info.value)


def test_keys_never_show_in_the_request_repr() -> None:
    request = HttpRequest("POST", "https://x", (("Authorization", "Bearer sk-secret"),), b"{}")
    assert (
        "sk-secret" not in repr(request) and request.header("authorization") == "Bearer sk-secret"
    )


def test_retry_after_parsing() -> None:
    assert retry_after_ms({"retry-after": "2"}) == 2000
    assert retry_after_ms({"retry-after": "0.5"}) == 500
    assert retry_after_ms({"retry-after-ms": "120", "retry-after": "9"}) == 120
    assert retry_after_ms({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_ms({}) is None


def test_a_body_of_parts_is_sent_whole_with_its_length_and_again_on_a_resend() -> None:
    from allm.adapters.body_parts import PART_RUN, runs
    from allm.adapters.http import HttpSend, Transport
    from allm.effects import Scope

    big = b"x" * (PART_RUN + 5)
    parts = (b"a" * 10, b"b" * (PART_RUN - 5), big, b"tail")
    found = list(runs(parts))
    assert b"".join(found) == b"".join(parts) and found[1] is big and len(found) == 3
    request = HttpRequest("POST", "https://example.test/u", (("x-api-key", "k"),), None, parts)
    assert request.size == sum(map(len, parts)) and f"<{request.size} bytes>" in repr(request)
    seen: list[tuple[str, bytes]] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append((req.headers["content-length"], req.read()))
        return httpx.Response(503 if len(seen) == 1 else 200)

    async def answer_async(req: httpx.Request) -> httpx.Response:
        seen.append((req.headers["content-length"], await req.aread()))
        return httpx.Response(200)

    transport = Transport(
        httpx.Client(transport=httpx.MockTransport(answer)),
        httpx.AsyncClient(transport=httpx.MockTransport(answer_async)),
    )
    send = HttpSend(transport, request, False)
    assert send.run_sync(Scope()).status == 503  # type: ignore[union-attr]
    assert send.run_sync(Scope()).status == 200  # type: ignore[union-attr]
    assert anyio.run(send.run_async, Scope()).status == 200  # type: ignore[union-attr]
    assert seen == [(str(request.size), b"".join(parts))] * 3
