"""The Anthropic adapter: pre-flight, the request body, and the answer (streamed or whole)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import StreamDecoder, json_or_none, retry_after_ms
from ...adapters.http import HttpResult
from ...data.request import Request
from ...data.response import Response, Usage
from ...errors import AdapterError, EngineError, ValidationError
from ..parts import part_problems, tool_problems
from ..wire import is_set
from .caching import thinking_fields, thinking_problems
from .decode import AnthropicStreamDecoder
from .errors import _snippet, classify
from .request import (
    PROVIDER_TOOLS,
    AnthropicRequests,
    _json_format,
    part_rule,
    structured_tool_name,
)
from .settings import (
    _FORMAT_TYPES,
    _TOOL_CHOICE_TYPES,
    UNSUPPORTED_NEUTRAL,
)
from .turn import _Turn, read_message

# -- the adapter ----------------------------------------------------------------------------------


class Anthropic(AnthropicRequests):
    """The Anthropic Messages API adapter (streaming and non-streaming).

    Key from ``ANTHROPIC_API_KEY`` (or ``api_key=``); extra headers such as ``anthropic-beta``
    through the ``headers`` option; provider parameters (``thinking``, ``top_k``,
    ``stop_sequences``, ``metadata``, ...) as engine params, ``request.options`` or
    ``provider_options={"anthropic": {...}}``, merged into the body as they are.
    """

    name: ClassVar[str] = "anthropic"
    # Forced tools work on every Claude model; output_config.format only on recent ones.
    output_modes: ClassVar[tuple[str, ...]] = ("tool", "native", "prompted")
    key_provider: ClassVar[str] = "anthropic"
    default_base_url: ClassVar[str] = "https://api.anthropic.com/v1"
    extra_retry_statuses: ClassVar[tuple[int, ...]] = (529,)
    # The provider tool kinds this platform runs (docs/requests.md).
    provider_tool_kinds: ClassVar[tuple[str, ...]] = tuple(PROVIDER_TOOLS)

    # -- pre-flight -------------------------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """The image rules, then the tool-choice and structured-output rules."""
        super().check(request, call)
        if not isinstance(request.model, str) or not request.model:
            raise EngineError("missing_model", "Anthropic needs a model name", provider=self.name)
        problems: list[tuple[tuple[str | int, ...], str]] = []
        choice = request.tool_choice
        forcing = choice == "required" or isinstance(choice, tuple)
        if isinstance(choice, str) and choice not in ("auto", "none", "required"):
            forcing = True
        if isinstance(choice, Mapping):
            kind = choice.get("type")
            if kind == "function" and isinstance(choice.get("function"), Mapping):
                kind = "tool"
            if kind not in _TOOL_CHOICE_TYPES:
                problems.append((("tool_choice",), "unsupported_tool_choice"))
            forcing = kind in ("any", "tool")
        if forcing and not request.tools:
            problems.append((("tool_choice",), "forcing_choice_without_tools"))
        fmt = request.response_format
        if isinstance(fmt, Mapping) and fmt.get("type") not in _FORMAT_TYPES:
            problems.append((("response_format",), "unsupported_response_format"))
        synthetic = structured_tool_name(request)
        if synthetic is not None and any(tool.name == synthetic for tool in request.tools):
            problems.append((("tools",), "collides_with_structured_output_tool"))
        problems.extend(
            ((name,), "unsupported_option") for name in UNSUPPORTED_NEUTRAL if is_set(request, name)
        )
        problems.extend(part_problems(request.messages, part_rule))
        problems.extend(tool_problems(request.tools, self.provider_tool_kinds))
        problems.extend(thinking_problems(request, call.params))
        if problems:
            raise ValidationError("invalid_request", errors=problems)

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """``thinking`` (and the ``max_tokens`` / ``output_config`` it set)."""
        return thinking_fields(request, call.params)

    def requires_structured_finalize(self, request: Request) -> bool:
        """Structured output forces a synthetic tool, which would shut out the user's tools: with
        both, the chat loop runs the tools first and asks for the structured answer after."""
        return bool(request.tools) and _json_format(request.response_format) is not None

    # -- answers ----------------------------------------------------------------------------------

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        """A fresh decoder for one stream."""
        return AnthropicStreamDecoder(self.name, call.request_id, structured_tool_name(request))

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole ``message`` object as a ``Response`` (the same fold as the stream)."""
        data = json_or_none(result.body)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise self.malformed(
                call, f"unreadable Anthropic message body: {_snippet(result.body)!r}", result
            )
        headers = result.headers
        turn = _Turn(
            structured_tool_name(request), headers.get("request-id") or headers.get("x-request-id")
        )
        reasoning = read_message(turn, data)
        usage = turn.merge_usage(data.get("usage"))
        metadata: dict[str, Any] = {}
        if turn.provider_request_id is not None:
            metadata["provider_request_id"] = turn.provider_request_id
        metadata.update(turn.extras())
        if turn.reasoning_blocks:
            metadata["reasoning_blocks"] = tuple(turn.reasoning_blocks)
        message = turn.message()
        return Response(
            id=turn.response_id,
            model=turn.model,
            message=message,
            output_text=message.content if isinstance(message.content, str) else "",
            tool_calls=message.tool_calls,
            finish_reason=turn.finish_reason(),
            raw_finish_reason=turn.stop_reason,
            usage=Usage(**usage) if usage is not None else Usage(),
            raw=data,
            metadata=metadata,
            reasoning="".join(reasoning) if turn.reasoning_blocks else None,
            **turn.found.response_fields(),
        )

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error: the JSON envelope ``{type:"error", error:{type, message}, request_id}``,
        or ``malformed_response`` for a body that is not one (an HTML page from a proxy)."""
        headers = result.headers
        header_id = headers.get("request-id") or headers.get("x-request-id")
        data = json_or_none(result.body)
        error = data.get("error") if isinstance(data, dict) else None
        retry_after = retry_after_ms(headers)
        metadata: dict[str, Any] = {}
        if "x-should-retry" in headers:
            metadata["should_retry"] = headers["x-should-retry"].strip().lower() == "true"
        if not isinstance(error, Mapping):
            kind = headers.get("content-type", "unknown content type")
            return AdapterError(
                "malformed_response",
                f"Anthropic answered HTTP {result.status} with an unreadable body ({kind}): "
                f"{_snippet(result.body)!r}",
                provider=self.name,
                status=result.status,
                retry_after_ms=retry_after,
                request_id=header_id or call.request_id,
                metadata=metadata,
            )
        error_type = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or f"HTTP {result.status} from Anthropic")
        details = error.get("details")
        code = details.get("error_code") if isinstance(details, Mapping) else None
        metadata["anthropic_type"] = error_type
        if code is not None:
            metadata["error_code"] = code
        body_id = data.get("request_id") if isinstance(data, dict) else None
        return AdapterError(
            classify(result.status, error_type, code, message),
            message,
            provider=self.name,
            status=result.status,
            retry_after_ms=retry_after,
            request_id=str(body_id or header_id or call.request_id),
            metadata=metadata,
        )
