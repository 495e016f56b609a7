"""The shared machinery of HTTP adapters: settings, retry around the open, the SSE read loop,
and helpers every wire format needs (image checks, text flattening, Retry-After, JSON bodies).

A provider subclasses ``HttpAdapter`` and supplies four pure pieces: ``build_body`` /
``endpoint`` (the request), ``stream_decoder`` (SSE events in, allm events out),
``parse_response`` (a whole non-streaming body) and ``classify_error`` (status + body to an
``AdapterError`` with a closed reason).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar, Protocol

from .. import keys
from .._json import loads_wire as json_loads
from ..data.messages import Image, ImagePart, Message, Role, TextPart
from ..data.request import Request
from ..data.response import Response
from ..effects import Effect
from ..errors import AdapterError, ConfigurationError, FieldError, ValidationError
from ..events import ErrorEvent, Event, MessageStarted
from ..retry import NO_RETRY, Fail, Ok, Outcome, Retry, RetryPolicy, retrying, widened
from . import Call
from .http import (
    DEFAULT_MAX_CONNECTIONS,
    HttpClose,
    HttpRead,
    HttpRequest,
    HttpResult,
    HttpSend,
    Transport,
    TransportFailure,
    check_headers,
    header_problem,
)
from .options import encode_body
from .plan import stamp_completed, started_first, wire_chunk, with_wire_chunks
from .sse import DEFAULT_MAX_LINE_BYTES, SSEDecoder

__all__ = [
    "IMAGE_MAX_BYTES",
    "IMAGE_MIME_TYPES",
    "HttpAdapter",
    "Framing",
    "HttpSettings",
    "StreamDecoder",
    "image_errors",
    "json_or_none",
    "retry_after_ms",
    "text_of",
]

IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
IMAGE_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0
# An exchange that opened: its head, and for a stream the first read (bytes, ``None`` for an
# empty body, or the failure that read ended with).
Opened = tuple[HttpResult, bytes | TransportFailure | None]
DEFAULT_STREAM_TIMEOUT = 60.0


class Framing(Protocol):
    """Bytes in, framed events out (the SSE decoder, the AWS event-stream decoder)."""

    @property
    def error(self) -> AdapterError | None: ...

    def feed(self, chunk: bytes) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


class StreamDecoder:
    """Turns one stream's SSE events into allm events. One instance per call.

    ``start`` runs once the exchange opened (emit ``MessageStarted``); ``feed`` per SSE event;
    ``finish`` at the end of the body (a stream that ended before its terminal event must end
    with an ``ErrorEvent``, never as a short answer); ``fail`` when the transport broke. Set
    ``done`` once the terminal event came: the read loop then stops and closes the body.
    """

    done: bool = False
    # Set by ``start`` when a 200 body is not an event stream (a server that ignored ``stream``,
    # an HTML page from a proxy): the read loop then hands the whole body to ``finish_body``.
    raw_body: bool = False

    def start(self, result: HttpResult) -> list[Event]:
        """Events for an exchange that opened with ``result``."""
        return [MessageStarted(Message(Role.ASSISTANT, ""))]

    def feed(self, event: Any) -> list[Event]:  # pragma: no cover - every decoder overrides
        """Events for one framed event (an ``SSEEvent``, or what the adapter's
        ``frame_decoder`` yields)."""
        raise NotImplementedError

    def finish(self) -> list[Event]:  # pragma: no cover - every decoder overrides
        """Events at the end of the body."""
        raise NotImplementedError

    def fail(self, error: AdapterError) -> list[Event]:
        """Events when the transport broke mid-stream (keep what came, end with the error)."""
        return [ErrorEvent(error)]

    def finish_body(self, body: bytes) -> list[Event]:  # pragma: no cover - opt-in
        """Events for a whole non-event-stream body (only called when ``raw_body`` is set)."""
        raise NotImplementedError


def json_or_none(body: bytes | str) -> Any:
    """The parsed JSON body, or None when it is not JSON (an HTML page from a proxy, say)."""
    try:
        return json_loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*$")


def retry_after_ms(headers: Mapping[str, str]) -> int | None:
    """``retry-after-ms``, else ``retry-after`` in seconds (HTTP dates are ignored)."""
    value = headers.get("retry-after-ms")
    if value is not None and _DURATION.match(value):
        return round(float(value))
    value = headers.get("retry-after")
    if value is not None and _DURATION.match(value):
        return round(float(value) * 1000)
    return None


def text_of(content: Any) -> str:
    """A message's text: a string, or its text parts joined by newlines (images dropped)."""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


def _image_problem(image: Image, check_size: bool) -> str | None:
    if image.source.type == "url":
        return None
    mime = image.mime_type
    if not mime:
        return "missing_mime_type"
    if mime not in IMAGE_MIME_TYPES:
        return "unsupported_image_format"
    if check_size:
        if image.source.type == "binary":
            size = len(image.source.value)
        elif image.source.type == "base64":
            size = len(str(image.source.value)) * 3 // 4
        else:
            import os

            try:
                size = os.path.getsize(str(image.source.value))
            except OSError:
                return "unresolvable_image"
        if size > IMAGE_MAX_BYTES:
            return "image_too_large"
    if image.source.type == "base64":
        import base64
        import binascii

        try:
            base64.b64decode(str(image.source.value), validate=True)
        except (binascii.Error, ValueError):
            return "unresolvable_image"
    return None


def image_errors(request: Request, *, check_size: bool = True) -> list[FieldError]:
    """Image problems every adapter rejects before sending: an image in a system message, an
    unknown type, a missing MIME type, more than 20 MiB, unreadable data."""
    errors: list[FieldError] = []
    for index, message in enumerate(request.messages):
        if not isinstance(message.content, tuple):
            continue
        for part_index, part in enumerate(message.content):
            if not isinstance(part, ImagePart):
                continue
            if message.role == Role.SYSTEM:
                errors.append((("messages", index, "content"), "image_in_system_message"))
                continue
            problem = _image_problem(part.image, check_size)
            if problem is not None:
                errors.append((("messages", index, "content", part_index), problem))
    return errors


def raise_image_errors(request: Request, *, check_size: bool = True) -> None:
    """Raise ``ValidationError("invalid_message")`` listing every image problem."""
    errors = image_errors(request, check_size=check_size)
    if errors:
        raise ValidationError("invalid_message", errors=errors)


class HttpSettings:
    """Per-call settings and pooled transports, shared by every HTTP adapter (chat and images):
    a setting comes from the call's adapter options, else the constructor, else a default."""

    key_provider: ClassVar[str] = "http"
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        http_client: Any = None,
        async_http_client: Any = None,
        max_connections: int | None = None,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.max_connections = max_connections
        self._transport = Transport(
            http_client, async_http_client, max_connections or DEFAULT_MAX_CONNECTIONS
        )
        self._transports: dict[tuple[int, int, int], Transport] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url or self.default_base_url!r})"

    def close(self) -> None:
        """Close the blocking connection pools this adapter created (async pools close with
        their event loop; injected clients belong to the caller)."""
        self._transport.close()
        for transport in self._transports.values():
            transport.close()

    def setting(self, call: Call, name: str, default: Any = None) -> Any:
        """A setting from the call's adapter options, else the constructor, else the provider's
        configured settings, else ``default``."""
        if call.adapter_opts.get(name) is not None:
            return call.adapter_opts[name]
        own = getattr(self, name, None)
        if own is not None:
            return own
        configured = call.provider_settings.get(name)
        return configured if configured is not None else default

    def default_base(self, call: Call) -> str:
        """The base URL when none is set (a provider whose host depends on a setting, such as a
        region, computes it here)."""
        return self.default_base_url

    def base(self, call: Call) -> str:
        """The base URL, without a trailing slash."""
        return str(self.setting(call, "base_url", self.default_base(call))).rstrip("/")

    def pool_size(self, call: Call) -> int:
        """The most connections a pool holds: ``max_connections`` (a positive int)."""
        value = self.setting(call, "max_connections", DEFAULT_MAX_CONNECTIONS)
        if type(value) is not int or value < 1:
            raise ConfigurationError(
                "invalid_option",
                problems=[f"adapter_opts.max_connections: expected a positive int, got {value!r}"],
            )
        return value

    def transport(self, call: Call) -> Transport:
        """The pooled transport for this call's client settings: clients from the call's
        options, else the constructor's, else the provider's configured ones, else our pool."""
        injected = call.opt("http_client"), call.opt("async_http_client")
        if injected == (None, None):
            if self._transport.injected:
                return self._transport  # the constructor's clients: their pools are the caller's
            configured = call.provider_settings
            injected = configured.get("http_client"), configured.get("async_http_client")
        size = self.pool_size(call)
        if injected == (None, None) and size == self._transport.max_connections:
            return self._transport
        key = (id(injected[0]), id(injected[1]), size)
        found = self._transports.get(key)
        if found is None:
            found = self._transports[key] = Transport(*injected, max_connections=size)
        return found

    def api_key(self, call: Call) -> str:
        """The key, resolved now (after the adapter's local checks passed); a key that cannot be
        sent in a header is a ``ConfigurationError`` naming where it came from, never the key."""
        key = self.optional_api_key(call)
        if key is None:
            return keys.fetch(self.key_provider, call.api_key)  # raises missing_key
        return key

    def optional_api_key(self, call: Call) -> str | None:
        """The key if one is configured (checked as ``api_key`` does), else None."""
        found = keys.locate(self.key_provider, call.api_key)
        if found is None:
            return None
        key, _, where = found
        problem = header_problem(key)
        if problem is not None:
            raise ConfigurationError(
                "invalid_key",
                problems=[f"the {self.key_provider} key from {where} cannot be sent: {problem}"],
            )
        return key

    def configured_home(self, settings: Mapping[str, Any]) -> str:
        """The base URL the provider's configured settings point at (where its configured
        headers may go): their ``base_url``, else the provider's default."""
        return str(settings.get("base_url") or self.default_base_url).rstrip("/")

    def extra_headers(self, call: Call) -> dict[str, str]:
        """Headers from the provider's configured settings, then the constructor, then the
        call's ``headers`` option (checked now). Configured headers travel only to the host
        configured with them (their ``base_url``, else the provider's default), never to one set
        above them."""
        settings = call.provider_settings
        configured = settings.get("headers") or {}
        if configured and self.base(call) != self.configured_home(settings):
            configured = {}
        merged = {**configured, **self.headers, **(call.opt("headers") or {})}
        check_headers(tuple(merged.items()))
        return merged


class HttpAdapter(HttpSettings):
    """Base of the HTTP chat adapters: retry around the open, the read loop."""

    name: ClassVar[str] = "http"
    extra_retry_statuses: ClassVar[tuple[int, ...]] = ()
    requires_key: ClassVar[bool] = True

    def __init__(
        self,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stream_timeout: float | None = None,
        http_client: Any = None,
        async_http_client: Any = None,
        max_connections: int | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
            max_connections=max_connections,
        )
        self.stream_timeout = stream_timeout
        self.max_sse_line_bytes: int | None = None

    def line_limit(self, call: Call) -> int:
        """The longest SSE line (and non-event-stream body) accepted: ``max_sse_line_bytes``."""
        value = self.setting(call, "max_sse_line_bytes", DEFAULT_MAX_LINE_BYTES)
        return int(value) if isinstance(value, int) and value > 0 else DEFAULT_MAX_LINE_BYTES

    def frame_decoder(self, limit: int) -> Framing:
        """What splits a stream's body into events for ``StreamDecoder.feed``: SSE by default (an
        NDJSON wire swaps in ``allm.adapters.ndjson.NDJSONDecoder``, which yields one event per
        line; Bedrock ``allm.adapters.eventstream.EventStreamDecoder``, one per AWS message)."""
        return SSEDecoder(limit)

    def retry_policy(self, call: Call) -> RetryPolicy:
        """The call's policy, widened with this provider's extra retryable statuses."""
        policy = call.retry or NO_RETRY
        if not self.extra_retry_statuses:
            return policy
        return widened(policy, self.extra_retry_statuses)

    # -- what a provider supplies -----------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """Local pre-flight checks (raise). Default: the image rules."""
        raise_image_errors(request)

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The HTTP request for ``request``."""
        raise NotImplementedError  # pragma: no cover

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        """A fresh decoder for one stream."""
        raise NotImplementedError  # pragma: no cover

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole non-streaming response (raise ``AdapterError`` when it cannot be read)."""
        raise NotImplementedError  # pragma: no cover

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An error status and body as an ``AdapterError``."""
        raise NotImplementedError  # pragma: no cover

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """The body keys this wire sets for the call's reasoning (``metadata["reasoning_sent"]``
        of the response); empty when it sets none."""
        return {}

    def prepare_request(self, request: Request, call: Call, *, stream: bool = False) -> Any:
        """The ``httpx.Request`` this adapter would send (the key already in), for callers who
        want to send it themselves."""
        import httpx

        self.check(request, call)
        built = self.build_request(request, call, stream=stream)
        return httpx.Request(
            built.method, built.url, headers=list(built.headers), content=built.body
        )

    # -- the plans --------------------------------------------------------------------------------

    def _transport_error(self, failure: TransportFailure, call: Call) -> AdapterError:
        return AdapterError(
            failure.reason, failure.message, provider=self.name, request_id=call.request_id
        )

    def _open(
        self, call: Call, http_request: HttpRequest, stream: bool
    ) -> Generator[Effect, Any, Outcome[Opened]]:
        """Send under the retry policy. For a stream the first read belongs to the attempt:
        nothing has reached the consumer before the first bytes, so a connection that breaks
        before them is retried like one that failed to open. (A silent one is not: the server may
        be thinking, and a resend would pay for the work twice.) The outcome carries the first
        chunk (``None``: the body was empty) or the read's failure."""
        transport = self.transport(call)
        timeout = self.setting(call, "timeout", DEFAULT_TIMEOUT)
        stream_timeout = self.setting(call, "stream_timeout", DEFAULT_STREAM_TIMEOUT)

        def attempt(
            number: int,
        ) -> Generator[Effect, Any, Outcome[Opened]]:
            result = yield HttpSend(transport, http_request, stream, timeout, stream_timeout)
            if isinstance(result, TransportFailure):
                return Retry(self._transport_error(result, call))
            if result.status >= 400:
                error = self.classify_error(result, call)
                return Retry(error, error.retry_after_ms)
            if not stream:
                return Ok((result, None))
            assert result.handle is not None
            first = yield HttpRead(result.handle)
            if isinstance(first, TransportFailure) and first.reason == "network_error":
                return Retry(self._transport_error(first, call))
            return Ok((result, first))

        meta = {"provider": self.name, "request_id": call.request_id}
        outcome = yield from retrying(self.retry_policy(call), meta, attempt)
        if isinstance(outcome, Retry):
            return Fail(outcome.error)
        return outcome

    def stream(self, request: Request, call: Call) -> Iterator[Event | Effect]:
        """Check locally, resolve the key, build the request; return the lazy plan."""
        self.check(request, call)
        self.pool_size(call)
        http_request = self.build_request(request, call, stream=True)
        decoder = self.stream_decoder(request, call)
        plan = self._stream_plan(call, http_request, decoder)
        sent = self.reasoning_sent(request, call)
        if not sent:
            return plan
        return stamp_completed(plan, {"reasoning_sent": sent})

    def _stream_plan(
        self, call: Call, http_request: HttpRequest, decoder: StreamDecoder
    ) -> Generator[Any, Any, None]:
        """The read loop; with ``include_raw_chunks`` every provider event also as a RawChunk."""
        plan = self._read_loop(call, http_request, decoder)
        return started_first(plan) if call.raw_chunks else plan

    def _read_loop(
        self, call: Call, http_request: HttpRequest, decoder: StreamDecoder
    ) -> Generator[Any, Any, None]:
        outcome = yield from self._open(call, http_request, stream=True)
        if not isinstance(outcome, Ok):
            yield MessageStarted(Message(Role.ASSISTANT, ""))
            yield ErrorEvent(outcome.error)
            return
        result, chunk = outcome.value
        assert result.handle is not None
        for event in decoder.start(result):
            yield event
        limit = self.line_limit(call)
        sse = self.frame_decoder(limit)
        buffered = bytearray()
        read = HttpRead(result.handle)  # one effect object for the whole body
        feed_sse = sse.feed
        feed = with_wire_chunks(decoder.feed) if call.raw_chunks else decoder.feed
        while chunk is not None:
            if isinstance(chunk, TransportFailure):
                for event in decoder.fail(self._transport_error(chunk, call)):
                    yield event
                return
            if decoder.raw_body:
                buffered += chunk
                if len(buffered) > limit:
                    error = self.malformed(call, f"a non-event-stream body exceeded {limit} bytes")
                    for event in decoder.fail(_with_provider(error, self.name, call, result)):
                        yield event
                    yield HttpClose(result.handle)
                    return
            else:
                # Every event this read completes is decoded before any goes out (one round
                # trip through the driver per read, not per event).
                sse_events = feed_sse(chunk)
                if len(sse_events) == 1:
                    events = feed(sse_events[0])
                else:
                    events = []
                    for sse_event in sse_events:
                        events += feed(sse_event)
                        if decoder.done:
                            break
                if decoder.done:
                    # Read the body's end before the last events go out: a consumer that
                    # stops at the terminal event still leaves the connection to the pool.
                    yield HttpClose(result.handle, drain=True)
                    yield from events
                    return
                yield from events
                if sse.error is not None:  # an oversized line: the events before it were kept
                    for event in decoder.fail(_with_provider(sse.error, self.name, call, result)):
                        yield event
                    yield HttpClose(result.handle)
                    return
            chunk = yield read
        if decoder.raw_body:
            if call.raw_chunks:
                yield wire_chunk(bytes(buffered))
            for event in decoder.finish_body(bytes(buffered)):
                yield event
            return
        for sse_event in sse.finish():  # an NDJSON body's last line may lack its newline
            for event in feed(sse_event):
                yield event
        for event in decoder.finish():
            yield event

    def generate(self, request: Request, call: Call) -> Generator[Effect, Any, Response]:
        """Check locally, resolve the key, build the request; return the plan of one exchange."""
        self.check(request, call)
        self.pool_size(call)
        http_request = self.build_request(request, call, stream=False)
        return self._generate_plan(request, call, http_request)

    def _generate_plan(
        self, request: Request, call: Call, http_request: HttpRequest
    ) -> Generator[Effect, Any, Response]:
        outcome = yield from self._open(call, http_request, stream=False)
        if not isinstance(outcome, Ok):
            raise outcome.error
        response = self.parse_response(outcome.value[0], request, call)
        sent = self.reasoning_sent(request, call)
        if sent:
            response = replace(response, metadata={**response.metadata, "reasoning_sent": sent})
        return replace(response, request_id=call.request_id)

    # -- small shared helpers ---------------------------------------------------------------------

    def json_request(
        self, call: Call, url: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> HttpRequest:
        """A POST with a compact JSON body (the call's ``provider_options`` merged in), the
        provider's headers and the caller's extras."""
        merged = {"content-type": "application/json", **headers, **self.extra_headers(call)}
        return HttpRequest("POST", url, tuple(merged.items()), encode_body(body, call))

    def malformed(self, call: Call, message: str, result: HttpResult | None = None) -> AdapterError:
        """A ``malformed_response`` error for this provider."""
        return AdapterError(
            "malformed_response",
            message,
            provider=self.name,
            status=None if result is None else result.status,
            request_id=call.request_id,
        )


def _with_provider(
    error: AdapterError, provider: str, call: Call, result: HttpResult | None = None
) -> AdapterError:
    state = error.to_state()
    state["provider"] = provider
    known = (
        None
        if result is None
        else result.headers.get("x-request-id") or result.headers.get("request-id")
    )
    state["request_id"] = known or state.get("request_id") or call.request_id
    if result is not None and state.get("status") is None:
        state["status"] = result.status
    return AdapterError(**state)
