"""Streaming speech over a real socket (allm.testing.loopback): chunks reach the caller while the
server still holds the rest of the body, and closing a stream mid-body releases its connection
(a pool of one connection serves the next call)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

import allm
from allm.providers.fake_audio import tone
from allm.testing.loopback import Answer, LoopbackServer

BODY = tone(300)
CUTS = [1000, 5000]
PATH = "/v1/audio/speech"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def gated(gate: threading.Event) -> Answer:
    return Answer(headers={"content-type": "audio/wav"}, body=BODY, chunks=CUTS, gate=gate)


def engine(server: LoopbackServer, **opts: Any) -> allm.Engine:
    return allm.Engine(
        speech_adapter="openai_speech",
        speech_model="tts-1",
        adapter_opts={"base_url": server.url + "/v1", **opts},
        retry=False,
    )


def one_connection_clients() -> dict[str, Any]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return {
        "http_client": httpx.Client(limits=limits),
        "async_http_client": httpx.AsyncClient(limits=limits),
    }


def test_the_first_chunk_arrives_while_the_body_is_still_open(server: LoopbackServer) -> None:
    gate = threading.Event()
    server.add("POST", PATH, gated(gate))
    with allm.stream_synthesize(engine(server), "hi", format="wav", api_key="sk-test") as stream:
        first = next(stream)
        assert BODY.startswith(first) and 0 < len(first) <= CUTS[0]
        assert server.finished == []  # the server is still holding the rest
        gate.set()
        rest = b"".join(stream)
    assert first + rest == BODY
    assert stream.received == len(BODY)
    assert stream.mime_type == "audio/wav"
    [request] = server.requests
    assert request.json()["response_format"] == "wav"


def test_async_chunks_arrive_while_the_body_is_still_open(server: LoopbackServer) -> None:
    gate = threading.Event()
    server.add("POST", PATH, gated(gate))

    async def run() -> bytes:
        stream = await allm.astream_synthesize(
            engine(server), "hi", format="wav", api_key="sk-test"
        )
        async with stream:
            first = await stream.__anext__()
            assert server.finished == []
            gate.set()
            return first + b"".join([chunk async for chunk in stream])

    assert anyio.run(run) == BODY


def test_closing_mid_stream_releases_the_connection(server: LoopbackServer) -> None:
    gate = threading.Event()
    server.add("POST", PATH, gated(gate))
    server.add("POST", PATH, headers={"content-type": "audio/wav"}, body=BODY)
    opts = one_connection_clients()
    speech = engine(server, **opts)
    stream = allm.stream_synthesize(speech, "hi", format="wav", api_key="sk-test")
    assert next(stream)
    stream.close()
    stream.close()  # once: the second close does nothing
    gate.set()
    # The only connection of the pool is free again: the next call gets it at once.
    again = allm.synthesize(speech, "hi", format="wav", api_key="sk-test", timeout=5)
    assert again.audio.data == BODY
    with pytest.raises(StopIteration):
        next(stream)
    opts["http_client"].close()


def test_async_closing_mid_stream_releases_the_connection(server: LoopbackServer) -> None:
    gate = threading.Event()
    server.add("POST", PATH, gated(gate))
    server.add("POST", PATH, headers={"content-type": "audio/wav"}, body=BODY)

    async def run() -> bytes:
        speech = engine(server, **one_connection_clients())
        stream = await allm.astream_synthesize(speech, "hi", format="wav", api_key="sk-test")
        await stream.__anext__()
        await stream.aclose()
        await stream.aclose()
        gate.set()
        response = await allm.asynthesize(speech, "hi", format="wav", api_key="sk-test", timeout=5)
        return response.audio.data

    assert anyio.run(run) == BODY


def test_a_connection_cut_mid_body_raises_after_the_chunks_that_came(
    server: LoopbackServer,
) -> None:
    server.add(
        "POST",
        PATH,
        headers={"content-type": "audio/wav"},
        body=BODY,
        chunks=CUTS,
        cut_after=CUTS[1] + 10,
    )
    stream = allm.stream_synthesize(engine(server), "hi", format="wav", api_key="sk-test")
    received = bytearray()
    with pytest.raises(allm.AdapterError) as raised:
        for chunk in stream:
            received += chunk
    assert raised.value.reason == "network_error"
    assert bytes(received) == BODY[: CUTS[1] + 10]  # nothing that arrived was lost
    assert stream.error is raised.value
    assert len(server.requests) == 1  # never retried once audio was delivered


def test_nothing_is_sent_before_the_first_chunk_is_pulled(server: LoopbackServer) -> None:
    server.add("POST", PATH, headers={"content-type": "audio/wav"}, body=BODY)
    stream = allm.stream_synthesize(engine(server), "hi", format="wav", api_key="sk-test")
    assert server.requests == []
    assert stream.collect().audio.data == BODY
    assert len(server.requests) == 1


def test_a_transcription_upload_over_a_real_socket(server: LoopbackServer) -> None:
    body = b'{"text": " Hello. ", "language": "english", "duration": 0.3}'
    server.add(
        "POST", "/v1/audio/transcriptions", headers={"content-type": "application/json"}, body=body
    )
    heard = allm.Engine(
        transcription_adapter="openai_transcription",
        transcription_model="whisper-1",
        adapter_opts={"base_url": server.url + "/v1"},
    )
    result = allm.transcribe(heard, BODY, api_key="sk-test")
    assert (result.text, result.language, result.duration_ms) == ("Hello.", "en", 300)
    [request] = server.requests
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert BODY in request.body  # the WAV went up whole
    assert b'name="response_format"\r\n\r\nverbose_json' in request.body
