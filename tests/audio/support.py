"""Helpers for the audio tests: one driver for the sync and async audio APIs, recorded cases
replayed in order through httpx.MockTransport (bodies cut as the case says, closes counted), and
the multipart reader."""

from __future__ import annotations

import email.parser
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from tests.providers.wire import FIXTURES, Case, load

import allm

AUDIO = FIXTURES / "audio"
FAST_RETRY = {"base_delay_ms": 0, "jitter_ms": 0, "max_attempts": 3}
# Retries at once, whatever the server asked for.
NO_WAIT = {"base_delay_ms": 0, "jitter_ms": 0, "respect_retry_after": False}
KEYS = {"openai": "sk-test", "gemini": "gm-test"}


def fixture_audio(name: str) -> bytes:
    """``hello.wav`` or ``empty.wav``."""
    return (AUDIO / f"{name}.wav").read_bytes()


class AudioDriver:
    """Runs the same audio call through the sync or the async API."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def _run(
        self, sync_fn: Callable[..., Any], async_fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        if self.name == "sync":
            return sync_fn(*args, **kw)
        import anyio

        async def run() -> Any:
            return await async_fn(*args, **kw)

        return anyio.run(run)

    def synthesize(self, engine: Any, text: Any, **opts: Any) -> allm.SpeechResponse:
        return self._run(allm.synthesize, allm.asynthesize, engine, text, **opts)  # type: ignore[no-any-return]

    def transcribe(self, engine: Any, audio: Any, **opts: Any) -> allm.Transcription:
        return self._run(allm.transcribe, allm.atranscribe, engine, audio, **opts)  # type: ignore[no-any-return]

    def chunks(self, engine: Any, text: Any, **opts: Any) -> list[bytes]:
        """Every chunk of ``stream_synthesize``, in order."""
        if self.name == "sync":
            return list(allm.stream_synthesize(engine, text, **opts))
        import anyio

        async def run() -> list[bytes]:
            stream = await allm.astream_synthesize(engine, text, **opts)
            return [chunk async for chunk in stream]

        return anyio.run(run)

    def collect(self, engine: Any, text: Any, **opts: Any) -> allm.SpeechResponse:
        """``stream_synthesize(...).collect()``."""
        if self.name == "sync":
            return allm.stream_synthesize(engine, text, **opts).collect()
        import anyio

        async def run() -> allm.SpeechResponse:
            stream = await allm.astream_synthesize(engine, text, **opts)
            return await stream.collect()

        return anyio.run(run)


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body served in pieces that counts how often it was closed."""

    def __init__(self, pieces: list[bytes], closes: list[int]) -> None:
        self.pieces = pieces
        self.closes = closes

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece

    def close(self) -> None:
        self.closes.append(1)

    async def aclose(self) -> None:
        self.closes.append(1)


class Replay:
    """Recorded cases served in order (the last one repeats), each body cut as ``how`` says."""

    def __init__(self, directory: str, *names: str, how: str = "boundaries") -> None:
        self.cases: list[Case] = [load(directory, name) for name in names]
        self.how = how
        self.sent: list[httpx.Request] = []
        self.closes: list[int] = []

    @property
    def case(self) -> Case:
        return self.cases[0]

    @property
    def expect(self) -> dict[str, Any]:
        return self.case.expect

    def _answer(self, request: httpx.Request) -> httpx.Response:
        case = self.cases[min(len(self.sent), len(self.cases) - 1)]
        self.sent.append(request)
        stream = _Body(case.chunks(self.how), self.closes)
        return httpx.Response(case.status, headers=case.headers, stream=stream)

    def clients(self) -> dict[str, Any]:
        return mock_clients(self._answer)

    def engine(self, slot: str, adapter: str, **fields: Any) -> allm.Engine:
        fields.setdefault("retry", FAST_RETRY)
        return allm.Engine(**{slot: adapter}, adapter_opts=self.clients(), **fields)


def mock_clients(answer: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    """``http_client`` / ``async_http_client`` adapter options whose transport reads each request
    and hands it to ``answer``."""

    def sync(request: httpx.Request) -> httpx.Response:
        request.read()
        return answer(request)

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return answer(request)

    return {
        "http_client": httpx.Client(transport=httpx.MockTransport(sync)),
        "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    }


def multipart_parts(request: httpx.Request) -> Iterator[tuple[str, str | None, str | None, bytes]]:
    """``(name, filename, content type, payload)`` of each part, parsed by the stdlib."""
    content_type = request.headers["content-type"]
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.content)
    assert message.is_multipart()
    for part in message.get_payload():  # type: ignore[union-attr]
        yield (
            part.get_param("name", header="content-disposition"),
            part.get_param("filename", header="content-disposition"),
            part.get("content-type") if part.get_filename() else None,
            part.get_payload(decode=True),
        )


def spans(values: Any) -> list[list[Any]]:
    """Transcript spans as ``[start_ms, end_ms, text, logprob]`` lists."""
    return [[s.start_ms, s.end_ms, s.text, s.logprob] for s in values]


def check_transcription(result: allm.Transcription, wanted: Mapping[str, Any]) -> None:
    """``result`` against a case's expected ``transcription``."""
    assert result.text == wanted["text"]
    assert result.language == wanted["language"]
    assert result.duration_ms == wanted["duration_ms"]
    assert spans(result.segments) == wanted["segments"]
    assert spans(result.words) == wanted["words"]
    for key, value in wanted.get("usage", {}).items():
        assert getattr(result.usage, key) == value
    for key, value in wanted["usage_extra"].items():
        assert result.usage.extra[key] == value
    assert allm.from_json(allm.to_json(result)) == result


def check_error(error: allm.AdapterError, wanted: Mapping[str, Any]) -> None:
    assert isinstance(error, allm.AdapterError)
    assert error.reason == wanted["reason"]
    assert error.status == wanted["status"]
    if "openai_code" in wanted:
        assert error.metadata.get("openai_code") == wanted["openai_code"]
    if "retry_after_ms" in wanted:
        assert error.retry_after_ms == wanted["retry_after_ms"]


def path_of(name: str) -> Path:
    return AUDIO / name
