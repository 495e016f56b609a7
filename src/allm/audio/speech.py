"""Speech synthesis: ``synthesize``, ``stream_synthesize`` and their async twins.

Every call runs inside a ``synthesize`` telemetry span, in this order: the engine's
``speech_adapter`` (else a ``"provider:id"`` ``speech_model`` picks one; else
``EngineError("no_speech_adapter")``); the model (call ``model=`` > ``engine.speech_model``;
``engine.model`` is never read); the request's shape (``ValidationError("invalid_speech_request")``
listing every problem); the catalog (``speech: false``); the adapter's own checks, then its key;
then the plan under the retry policy (the engine's, widened with rate limits, 5xx, timeouts and
network errors). A failure raises an ``AdapterError`` once the provider was asked.

A stream is lazy: nothing is sent before the first chunk is pulled. It is retried only while no
chunk was delivered; a failure after that raises from the iterator (every chunk received before
it was yielded) and is kept in ``stream.error``. ``close()`` releases the connection, once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, cast, runtime_checkable

from .. import telemetry
from ..adapters import Call
from ..data.audio import SPEECH_FORMATS, Audio, SpeechRequest, SpeechResponse
from ..effects import Effect
from ..errors import AdapterError, AllmError, FieldError, StreamError, ValidationError
from ..execution.runner import EventFilter
from ..execution.surface import SurfaceCall
from ..retry import Fail, Ok, Outcome, Retry, retrying
from ._common import (
    SPEECH,
    Job,
    audio_costs,
    check_capability,
    resolve,
    run_async,
    run_sync,
    shape_errors,
    split,
)
from ._common import span_metadata as _span_metadata

__all__ = [
    "AsyncSpeechStream",
    "SpeechAdapter",
    "SpeechStream",
    "asynthesize",
    "astream_synthesize",
    "speech_errors",
    "stream_synthesize",
    "synthesize",
]

_FIELDS = frozenset({"model", "voice", "format", "instructions", "speed", "options", "metadata"})
_ALL_CHUNKS = EventFilter(None, frozenset())


@runtime_checkable
class SpeechAdapter(Protocol):
    """A speech provider. Like chat adapters it never does I/O itself.

    ``synthesize(request, call)`` runs its pre-flight when called (raising before any key is
    resolved or byte sent), then returns a generator of effects whose return value is the
    ``SpeechResponse``, or which raises the ``AdapterError`` it ended with. The optional
    ``stream_synthesize(request, call)`` returns a generator that also yields the audio as
    ``bytes`` chunks and returns the response without its bytes. One attempt per call.
    """

    name: str

    def synthesize(
        self, request: SpeechRequest, call: Call
    ) -> Generator[Effect, Any, SpeechResponse]:
        """Pre-flight now; return the plan of one attempt."""
        ...


def speech_errors(request: SpeechRequest) -> list[FieldError]:
    """Every problem with a speech request's shape (the adapter checks its own limits)."""
    errors: list[FieldError] = []
    if not isinstance(request.text, str):
        errors.append((("text",), "invalid_type"))
    elif not request.text.strip():
        errors.append((("text",), "empty"))
    if request.format not in SPEECH_FORMATS:
        errors.append((("format",), "unsupported_format"))
    speed = request.speed
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0
    ):
        errors.append((("speed",), "not_positive"))
    return errors + shape_errors(request, ("voice", "instructions", "model"))


@dataclass
class _Job(Job):
    """One speech call between its arguments and its response."""

    request: SpeechRequest | None = None
    summary: list[SpeechResponse] = field(default_factory=list)

    @classmethod
    def create(
        cls, engine: Any, text: Any, voice: Any, format: Any, opts: Mapping[str, Any]
    ) -> _Job:
        fields, control, params = split(opts, _FIELDS)
        fields.setdefault("voice", voice)
        fields.setdefault("format", format)
        return cls(engine, text, fields, control, params)

    def span_metadata(self, stream: bool) -> dict[str, Any]:
        return _span_metadata(
            self.engine, SPEECH, self.fields.get("model"), self.control, stream=stream
        )

    def preflight(self, span: telemetry.Span) -> tuple[SurfaceCall, SpeechRequest, Any]:
        resolved = resolve(SPEECH, self.engine, self.fields.get("model"), self.control, span)
        request = SpeechRequest(
            text=self.input,
            model=resolved.model,
            voice=self.fields.get("voice"),
            format=self.fields.get("format", "mp3"),
            instructions=self.fields.get("instructions"),
            speed=self.fields.get("speed"),
            options=self.options(),
            metadata=self.fields.get("metadata", {}),
        )
        errors = speech_errors(request)
        if errors:
            raise ValidationError("invalid_speech_request", errors=errors)
        check_capability(resolved.model_ref, "speech", "synthesize speech")
        self.resolved, self.request = resolved, request
        return resolved, request, resolved.adapter

    def plan(self, span: telemetry.Span) -> Generator[Effect, Any, SpeechResponse]:
        resolved, request, adapter = self.preflight(span)
        return resolved.plan(request, adapter.synthesize)

    def complete(self, response: Any, span: telemetry.Span) -> SpeechResponse:
        completed = self.finish(response)
        span.stop_metadata.update(
            response=completed, usage=completed.usage, error=None, bytes=len(completed.audio.data)
        )
        return completed

    def finish(self, response: Any, data: bytes | None = None) -> SpeechResponse:
        """The adapter's response with its model, request id, metadata and costs filled in."""
        resolved, request = self.resolved, self.request
        assert resolved is not None and request is not None
        if not isinstance(response, SpeechResponse) or not isinstance(response.audio, Audio):
            raise AdapterError(
                "malformed_response",
                f"speech adapter {resolved.adapter!r} returned {type(response).__name__}, "
                "not a SpeechResponse",
                provider=getattr(resolved.adapter, "name", None),
                request_id=resolved.call.request_id,
            )
        audio = response.audio if data is None else replace(response.audio, data=data)
        return replace(
            response,
            audio=audio,
            model=response.model or request.model,
            usage=audio_costs(response.usage, resolved.model_ref, output_price="audio_output"),
            metadata={
                **request.metadata,
                **response.metadata,
                "request_id": resolved.call.request_id,
            },
        )

    # -- streams ----------------------------------------------------------------------------------

    def stream_plan(self, span: telemetry.Span) -> Generator[Any, Any, None]:
        resolved, request, adapter = self.preflight(span)
        make: Callable[[SpeechRequest, Call], Generator[Any, Any, SpeechResponse]]
        make = getattr(adapter, "stream_synthesize", None) or _whole(adapter)
        first = make(request, resolved.call)
        span.stop_metadata.update(response=None, usage=None, error=None, stream=True)
        return self._stream_attempts(resolved, request, first, make)

    def _stream_attempts(
        self,
        resolved: SurfaceCall,
        request: SpeechRequest,
        first: Generator[Any, Any, SpeechResponse],
        make: Callable[[SpeechRequest, Call], Generator[Any, Any, SpeechResponse]],
    ) -> Generator[Any, Any, None]:
        def attempt(number: int) -> Generator[Any, Any, Outcome[SpeechResponse]]:
            plan = first if number == 1 else make(request, resolved.call)
            delivered, reply = False, None
            try:
                while True:
                    try:
                        item = plan.send(reply)
                    except StopIteration as stop:
                        return Ok(stop.value)
                    delivered = delivered or isinstance(item, bytes)
                    reply = yield item
            except AdapterError as exc:
                return Fail(exc) if delivered else Retry(exc, exc.retry_after_ms)
            finally:
                plan.close()

        meta = {
            "provider": getattr(resolved.adapter, "name", None),
            "request_id": resolved.call.request_id,
        }
        outcome = yield from retrying(resolved.policy, meta, cast(Any, attempt))
        if not isinstance(outcome, Ok):
            raise outcome.error
        self.summary.append(outcome.value)

    def collected(self, data: bytes) -> SpeechResponse:
        """The whole response of a stream that ended, with ``data`` as its audio."""
        if not self.summary:  # closed before its end: nothing to complete
            raise StreamError("cancelled", "the speech stream was closed before its end")
        return self.finish(self.summary[0], data)


def _whole(adapter: Any) -> Callable[[SpeechRequest, Call], Generator[Any, Any, SpeechResponse]]:
    """A stream plan for an adapter without one: the whole answer as one chunk."""

    def make(request: SpeechRequest, call: Call) -> Generator[Any, Any, SpeechResponse]:
        plan = adapter.synthesize(request, call)

        def run() -> Generator[Any, Any, SpeechResponse]:
            response = yield from plan
            yield response.audio.data
            return cast(SpeechResponse, replace(response, audio=replace(response.audio, data=b"")))

        return run()

    return make


class _StreamBase:
    __slots__ = ("_closed", "_first_at", "_job", "_started", "error", "received", "request_id")

    def __init__(self, job: _Job) -> None:
        self._job = job
        self._closed = False
        self._started = time.monotonic()
        self._first_at: float | None = None
        self.error: AllmError | None = None
        self.received = 0
        self.request_id: str = job.control["request_id"]

    @property
    def mime_type(self) -> str | None:
        """The audio's MIME type, once the stream completed (else the one asked for)."""
        if self._job.summary:
            return self._job.summary[0].audio.mime_type
        request = self._job.request
        return None if request is None else SPEECH_FORMATS.get(request.format)

    @property
    def response(self) -> SpeechResponse | None:
        """The response without its bytes (model, usage, metadata), once the stream completed."""
        return self._job.summary[0] if self._job.summary else None

    def _count(self, chunk: bytes) -> bytes:
        if self._first_at is None:
            self._first_at = time.monotonic()
            if telemetry.handlers():
                telemetry.execute(
                    "allm.audio.first_chunk",
                    {"latency": self._first_at - self._started},
                    {"request_id": self.request_id, "span": "synthesize"},
                )
        self.received += len(chunk)
        return chunk

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} request_id={self.request_id!r} {state}>"


class SpeechStream(_StreamBase):
    """Speech audio as ``bytes`` chunks, as they arrive. Iterate it, ``close()`` it (or use
    ``with``); ``collect()`` gathers the chunks not yet taken into a ``SpeechResponse``."""

    __slots__ = ("_chunks",)

    def __init__(self, job: _Job, chunks: Iterator[Any]) -> None:
        super().__init__(job)
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except AllmError as exc:
            self.error = exc
            self.close()
            raise
        return self._count(chunk)

    def close(self) -> None:
        """Stop the stream and release its connection (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            self._chunks.close()  # type: ignore[attr-defined]

    def collect(self) -> SpeechResponse:
        """The rest of the audio as one ``SpeechResponse`` (on a fresh stream: what
        ``synthesize`` returns)."""
        data = b"".join(self)
        return self._job.collected(data)

    def __enter__(self) -> SpeechStream:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncSpeechStream(_StreamBase):
    """The async twin of ``SpeechStream``: ``async for``, ``aclose()``, ``async with``,
    ``await collect()``."""

    __slots__ = ("_chunks", "_plan")

    def __init__(self, job: _Job, chunks: AsyncIterator[Any], plan: Any) -> None:
        super().__init__(job)
        self._chunks = chunks
        self._plan = plan

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except AllmError as exc:
            self.error = exc
            await self.aclose()
            raise
        return self._count(chunk)

    async def aclose(self) -> None:
        """Stop the stream and release its connection (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            await self._chunks.aclose()  # type: ignore[attr-defined]

    async def collect(self) -> SpeechResponse:
        """The rest of the audio as one ``SpeechResponse``."""
        data = b"".join([chunk async for chunk in self])
        return self._job.collected(data)

    async def __aenter__(self) -> AsyncSpeechStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # An abandoned stream: the plan is a plain generator and can be closed right now.
        if not self._closed:
            self._plan.close()


def _stream_preflight(job: _Job) -> Generator[Any, Any, None]:
    error: AllmError | None = None
    with telemetry.span("synthesize", job.span_metadata(stream=True)) as span:
        try:
            plan = job.stream_plan(span)
        except AllmError as exc:
            span.stop_metadata.update(response=None, usage=None, error=exc, stream=True)
            error = exc
    if error is not None:
        raise error
    return plan


# -- the public functions --------------------------------------------------------------------------


def synthesize(
    engine: Any, text: str, voice: str | None = None, format: str = "mp3", **opts: Any
) -> SpeechResponse:
    """``text`` spoken in ``voice`` as ``format`` audio (``mp3``, ``opus``, ``aac``, ``flac``,
    ``wav``, ``pcm``). Keywords: ``model``, ``instructions``, ``speed``, ``options``,
    ``metadata``, call control (``request_id``, ``api_key``, ``retry``, ``adapter_opts``, transport
    settings); anything else is a provider parameter."""
    job = _Job.create(engine, text, voice, format, opts)
    return run_sync("synthesize", job.span_metadata(False), job.plan, job.complete)


async def asynthesize(
    engine: Any, text: str, voice: str | None = None, format: str = "mp3", **opts: Any
) -> SpeechResponse:
    """The async twin of ``synthesize``."""
    job = _Job.create(engine, text, voice, format, opts)
    return await run_async("synthesize", job.span_metadata(False), job.plan, job.complete)


def stream_synthesize(
    engine: Any, text: str, voice: str | None = None, format: str = "mp3", **opts: Any
) -> SpeechStream:
    """``synthesize`` as a lazy stream of ``bytes`` chunks; pre-flight problems raise here."""
    from ..execution import _sync

    job = _Job.create(engine, text, voice, format, opts)
    plan = _stream_preflight(job)
    return SpeechStream(job, _sync.drive(plan, _ALL_CHUNKS))


async def astream_synthesize(
    engine: Any, text: str, voice: str | None = None, format: str = "mp3", **opts: Any
) -> AsyncSpeechStream:
    """The async twin of ``stream_synthesize``: ``async for chunk in await astream_synthesize(...)``."""
    from ..execution import _async

    job = _Job.create(engine, text, voice, format, opts)
    plan = _stream_preflight(job)
    return AsyncSpeechStream(job, _async.drive(plan, _ALL_CHUNKS), plan)
