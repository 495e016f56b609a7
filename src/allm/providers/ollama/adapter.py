"""The Ollama adapter: ``POST {host}/api/chat``, streamed as NDJSON or answered whole."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ... import keys
from ...adapters import Call
from ...adapters.base import HttpAdapter, StreamDecoder, raise_image_errors
from ...adapters.http import HttpRequest, HttpResult
from ...adapters.ndjson import NDJSONDecoder
from ...adapters.sse import SSEDecoder
from ...collector import StreamCollector
from ...data.request import Request
from ...data.response import Response
from ...errors import AdapterError
from ...events import ErrorEvent
from ..openai import classify_http_error, unreadable_error
from ..parts import refuse_parts_and_tools
from ..wire import decode_json
from .decode import OllamaStreamDecoder
from .request import build_body, url_image_errors
from .settings import DEFAULT_HOST, host_url


class Ollama(HttpAdapter):
    """A local (or remote) Ollama server's native chat API. The host is ``base_url``, else
    ``OLLAMA_HOST`` (``localhost``, ``host:port`` or a URL), else ``http://localhost:11434``.
    No key is needed; one set as ``OLLAMA_API_KEY`` (or ``api_key=``) is sent as a bearer token
    (for a proxy in front of the server). ``think=`` (or ``reasoning_effort=``) turns thinking
    on; the neutral sampling fields go into ``options`` (``max_tokens`` as ``num_predict``); a
    ``json_schema`` response format is sent as ``format``."""

    name: ClassVar[str] = "ollama"
    key_provider: ClassVar[str] = "ollama"
    default_base_url: ClassVar[str] = DEFAULT_HOST
    requires_key: ClassVar[bool] = False
    output_modes: ClassVar[tuple[str, ...]] = ("native", "tool", "prompted")

    def base(self, call: Call) -> str:
        """``base_url``, else ``OLLAMA_HOST`` read as Ollama reads it, else the default host."""
        explicit = self.setting(call, "base_url")
        if explicit:
            return str(explicit).rstrip("/")
        return host_url(os.environ.get("OLLAMA_HOST", ""))

    def configured_home(self, settings: Mapping[str, Any]) -> str:
        """The configured ``base_url``, else the host ``OLLAMA_HOST`` names."""
        if settings.get("base_url"):
            return str(settings["base_url"]).rstrip("/")
        return host_url(os.environ.get("OLLAMA_HOST", ""))

    def frame_decoder(self, limit: int) -> SSEDecoder:
        return NDJSONDecoder(limit)

    def check(self, request: Request, call: Call) -> None:
        """The image rules (bytes only: Ollama fetches no URL) and the host, before any I/O."""
        raise_image_errors(request)
        url_image_errors(request)
        # The native chat API takes text and images only, and runs no provider tools.
        refuse_parts_and_tools(request, lambda part: "unsupported_option", (), wire="Ollama")
        self.base(call)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """A bearer token only when a key is configured."""
        found = keys.get(self.key_provider, call.api_key)
        if found is None:
            return {}
        return {"authorization": f"Bearer {self.optional_api_key(call)}"}

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        body = build_body(request, call, stream=stream)
        return self.json_request(call, self.base(call) + "/api/chat", body, self.auth_headers(call))

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        return OllamaStreamDecoder(self.name, call)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole answer, folded from the same events its stream would give."""
        try:
            body: Any = decode_json(result.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise unreadable_error(self.name, call, result.status, result.headers, result.body)
        decoder = OllamaStreamDecoder(self.name, call)
        decoder.provider_request_id = result.headers.get("x-request-id")
        events = decoder.chunk(body)
        for event in events:
            if isinstance(event, ErrorEvent):
                raise event.error
        if not decoder.done:
            raise self.malformed(call, "the answer has no 'done': true", result)
        response = StreamCollector(request_id=call.request_id).apply_all(events).to_response()
        metadata = dict(response.metadata)
        if decoder.provider_request_id:
            metadata["provider_request_id"] = decoder.provider_request_id
        return replace(response, raw=body, metadata=metadata)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error and Ollama's ``{"error": "..."}`` body as an ``AdapterError``."""
        return classify_http_error(self.name, result, call)
