"""The control requests of a batch job (upload, create, status, cancel, results) as effect
plans: sent through the adapter's HTTP base (its pooled transport, base URL, timeout and extra
headers), retried under the engine's policy, errors classified by the adapter's own mapping."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from .._json import dumps, loads_wire
from ..adapters import Call
from ..adapters.http import HttpRead, HttpRequest, HttpResult, HttpSend, TransportFailure
from ..effects import Effect
from ..errors import AdapterError
from ..execution.surface import RETRY_REASONS
from ..retry import NO_RETRY, Ok, Outcome, Retry, retrying, widened

__all__ = ["Wire"]

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Wire:
    """One provider's control requests for one call: ``headers`` carry the key (built by the
    adapter's own request builder, so key resolution and scrubbing are the chat path's)."""

    adapter: Any
    call: Call
    headers: Mapping[str, str]

    @property
    def base(self) -> str:
        return str(self.adapter.base(self.call))

    def request(
        self,
        method: str,
        url: str,
        body: bytes | tuple[bytes, ...] | None = None,
        content_type: str | None = "application/json",
        extra: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """A control request; a ``tuple`` body is sent part by part, never joined."""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-type"}
        if body is not None and content_type is not None:
            headers["content-type"] = content_type
        headers.update(extra or {})
        if isinstance(body, tuple):
            return HttpRequest(method, url, tuple(headers.items()), None, body)
        return HttpRequest(method, url, tuple(headers.items()), body)

    def send(
        self, request: HttpRequest, *, stream: bool = False
    ) -> Generator[Effect, Any, HttpResult]:
        """Send under the engine's retry policy (widened with the transient reasons, as every
        non-chat surface is); the result, or the ``AdapterError`` it ended with, raised."""
        policy = widened(self.call.retry or NO_RETRY, RETRY_REASONS)
        transport = self.adapter.transport(self.call)
        timeout = float(self.adapter.setting(self.call, "timeout", DEFAULT_TIMEOUT))

        def attempt(number: int) -> Generator[Effect, Any, Outcome[HttpResult]]:
            result = yield HttpSend(transport, request, stream, timeout, timeout)
            if isinstance(result, TransportFailure):
                error = AdapterError(
                    result.reason,
                    result.message,
                    provider=self.adapter.name,
                    request_id=self.call.request_id,
                )
                return Retry(error)
            if result.status >= 400:
                error = self.adapter.classify_error(result, self.call)
                return Retry(error, error.retry_after_ms)
            return Ok(result)

        meta = {"provider": self.adapter.name, "request_id": self.call.request_id}
        outcome = yield from retrying(policy, meta, attempt)
        if isinstance(outcome, Ok):
            return outcome.value
        raise outcome.error

    def json(
        self, method: str, url: str, payload: Any = None
    ) -> Generator[Effect, Any, dict[str, Any]]:
        """A JSON exchange: ``payload`` (when given) sent as JSON, the JSON object answered."""
        body = None if payload is None else dumps(payload).encode("utf-8")
        result = yield from self.send(self.request(method, url, body))
        try:
            document = loads_wire(result.body) if result.body else {}
        except (ValueError, UnicodeDecodeError):
            document = None
        if not isinstance(document, dict):
            raise self.malformed(result, f"{url} answered with something that is not a JSON object")
        return document

    def lines(self, url: str) -> Generator[Any, Any, None]:
        """The lines of a JSONL body, read as they arrive (never the whole body at once); each
        non-empty line is yielded as ``bytes``, among the effects."""
        result = yield from self.send(self.request("GET", url), stream=True)
        assert result.handle is not None
        read = HttpRead(result.handle)
        pending = b""
        while True:
            chunk = yield read
            if chunk is None:
                break
            if isinstance(chunk, TransportFailure):
                raise AdapterError(
                    chunk.reason,
                    chunk.message,
                    provider=self.adapter.name,
                    request_id=self.call.request_id,
                )
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                if line.strip():
                    yield line
        if pending.strip():
            yield pending

    def malformed(self, result: HttpResult, message: str) -> AdapterError:
        return AdapterError(
            "malformed_response",
            message,
            provider=self.adapter.name,
            status=result.status,
            request_id=self.call.request_id,
        )
