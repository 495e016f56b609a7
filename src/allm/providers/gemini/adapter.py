"""The Gemini adapter: pre-flight, the request, and the answer (streamed or whole, folded)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import (
    HttpAdapter,
    json_or_none,
    raise_image_errors,
    retry_after_ms,
)
from ...adapters.http import HttpRequest, HttpResult
from ...adapters.urls import path_segment
from ...data.messages import ImagePart
from ...data.reasoning import Reasoning
from ...data.request import Request
from ...data.response import Response
from ...data.server_tools import ProviderTool
from ...errors import AdapterError, EngineError
from ..parts import tool_problems
from ..reasoning import cache_key_problems, refuse
from ..wire import refuse_unsupported
from .decode import GeminiStreamDecoder
from .errors import _error_from, _snippet, _unwrap
from .request import (
    PROVIDER_TOOL_KINDS,
    _contents,
    _has_parameters,
    _tool_config,
    generation_config,
    provider_tool,
    sanitize_schema,
)
from .settings import DEFAULT_BASE_URL, MAX_STOP_SEQUENCES, MODEL_PREFIXES
from .thinking import thinking_problems, thinking_sent

# -- the adapter ----------------------------------------------------------------------------------


class Gemini(HttpAdapter):
    """The Google Gemini API adapter (streaming and non-streaming).

    Key from ``GEMINI_API_KEY`` (then ``GOOGLE_API_KEY``) or ``api_key=``, sent in the
    ``x-goog-api-key`` header (never in the URL). Provider parameters (``top_p``, ``top_k``,
    ``stop``, ``thinking_config``, ``safety_settings``, ...) as engine params or
    ``request.options``; see ``generation_config`` for the renaming. ``provider_options=
    {"gemini": {...}}`` is merged into the body as written (``generationConfig``, ...).
    """

    name: ClassVar[str] = "gemini"
    output_modes: ClassVar[tuple[str, ...]] = ("native", "tool", "prompted")
    key_provider: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    # The provider tool kinds this platform runs (docs/requests.md).
    provider_tool_kinds: ClassVar[tuple[str, ...]] = PROVIDER_TOOL_KINDS

    # -- pre-flight -------------------------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """The image rules, a model name, and no URL images (this API takes inline bytes only)."""
        raise_image_errors(request)
        if not isinstance(request.model, str) or not request.model:
            raise EngineError("missing_model", "Gemini needs a model name", provider=self.name)
        path_segment(request.model, provider=self.name, prefixes=MODEL_PREFIXES)
        refuse_unsupported(request, ("parallel_tool_calls",))
        problems = tool_problems(request.tools, self.provider_tool_kinds) + thinking_problems(
            request
        )
        problems.extend(cache_key_problems(request))  # caching is implicit: a key has no field
        if len(request.stop) > MAX_STOP_SEQUENCES:  # GenerationConfig.stopSequences: up to 5
            problems.append((("stop",), "too_many_stop_sequences"))
        refuse(problems)
        urls: list[list[str | int]] = []
        for index, message in enumerate(request.messages):
            if not isinstance(message.content, tuple):
                continue
            for part_index, part in enumerate(message.content):
                if isinstance(part, ImagePart) and part.image.source.type == "url":
                    urls.append(["messages", index, "content", part_index])
        if urls:
            raise AdapterError(
                "unsupported_feature",
                "the Gemini API takes images as inline data only; "
                "load the image (ImagePart.from_bytes / from_file) instead of passing a URL",
                provider=self.name,
                request_id=call.request_id,
                metadata={"paths": urls, "feature": "image_url"},
            )

    # -- request ----------------------------------------------------------------------------------

    def url(self, request: Request, call: Call, *, stream: bool) -> str:
        """``{base}/models/{model}:generateContent`` or ``:streamGenerateContent?alt=sse``."""
        model = path_segment(request.model, provider=self.name, prefixes=MODEL_PREFIXES)
        if not model.startswith(MODEL_PREFIXES):
            model = f"models/{model}"
        path = f"{self.base(call)}/{model}"
        return f"{path}:streamGenerateContent?alt=sse" if stream else f"{path}:generateContent"

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """``generationConfig.thinkingConfig`` as sent, when a reasoning control set it."""
        if not isinstance(request.reasoning, Reasoning) and "reasoning_effort" not in call.params:
            return {}
        return thinking_sent(generation_config(request, call)[0])

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The POST with the JSON body; the key is resolved after the body was built."""
        body = self.build_body(request, call)
        headers = {"x-goog-api-key": self.api_key(call)}
        return self.json_request(call, self.url(request, call, stream=stream), body, headers)

    def build_body(self, request: Request, call: Call) -> dict[str, Any]:
        """The ``generateContent`` body (the same for both endpoints)."""
        system, contents = _contents(request.messages)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": system}
        config, top = generation_config(request, call)
        if config:
            body["generationConfig"] = config
        if request.tools:
            declarations = []
            servers: list[dict[str, Any]] = []
            for tool in request.tools:
                if isinstance(tool, ProviderTool):
                    servers.append(provider_tool(tool))
                    continue
                declaration: dict[str, Any] = {"name": tool.name, "description": tool.description}
                if _has_parameters(tool.schema):
                    declaration["parameters"] = sanitize_schema(tool.schema)
                declarations.append(declaration)
            body["tools"] = (
                [{"functionDeclarations": declarations}] if declarations else []
            ) + servers
            tool_config = _tool_config(request.tool_choice)
            if tool_config is not None:
                body["toolConfig"] = tool_config
        body.update(top)
        return body

    # -- answers ----------------------------------------------------------------------------------

    def stream_decoder(self, request: Request, call: Call) -> GeminiStreamDecoder:
        """A fresh decoder for one stream."""
        return GeminiStreamDecoder(self.name, call.request_id)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole ``generateContent`` body, decoded by the stream decoder and folded, so the
        non-streaming path gives the same ``Response`` as the stream would."""
        from ...collector import StreamCollector

        body = json_or_none(result.body)
        if body is None:
            raise self._unreadable(result, call, "a body that is not JSON")
        decoder = GeminiStreamDecoder(self.name, call.request_id)
        events = decoder.start(result)
        events.extend(decoder.payload(body))
        if not decoder.done:
            if not decoder.has_content:
                raise self._unreadable(
                    result, call, "a body with neither candidates nor promptFeedback.blockReason"
                )
            events.extend(decoder.complete_without_finish())
        collector = StreamCollector(request_id=call.request_id)
        collector.apply_all(events)
        if collector.error is not None:
            raise collector.error
        return replace(collector.to_response(), raw=body)

    def _unreadable(self, result: HttpResult, call: Call, what: str) -> AdapterError:
        kind = result.headers.get("content-type", "unknown content type")
        return AdapterError(
            "malformed_response",
            f"Gemini answered HTTP {result.status} with {what} ({kind}): {_snippet(result.body)!r}",
            provider=self.name,
            status=result.status,
            retry_after_ms=retry_after_ms(result.headers),
            request_id=call.request_id,
            metadata={"content_type": kind},
        )

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error: ``{"error": {code, message, status, details}}`` (possibly wrapped in a
        one-element array), or ``malformed_response`` for a body that is not one."""
        data = _unwrap(json_or_none(result.body))
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, Mapping):
            return self._unreadable(result, call, "an unreadable body")
        return _error_from(
            error,
            http_status=result.status,
            headers=result.headers,
            request_id=call.request_id,
            provider=self.name,
        )
