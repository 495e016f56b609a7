"""The Anthropic adapter: pre-flight, the request body, and the answer (streamed or whole)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import HttpAdapter, StreamDecoder, json_or_none, retry_after_ms, text_of
from ...adapters.http import HttpRequest, HttpResult
from ...data.messages import Image, ImagePart, Message, Role, TextPart
from ...data.request import Request
from ...data.response import Response, Usage
from ...errors import AdapterError, EngineError, ValidationError
from .decode import AnthropicStreamDecoder, _Turn
from .errors import _snippet, classify
from .request import _json_format, _thinking_blocks, structured_tool_name
from .settings import (
    _FORMAT_TYPES,
    _TOOL_CHOICE_TYPES,
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    REDACTED_THINKING_ID,
    STRUCTURED_TOOL_DESCRIPTION,
    THINKING_ID,
    _thinking_enabled,
)

# -- the adapter ----------------------------------------------------------------------------------


class Anthropic(HttpAdapter):
    """The Anthropic Messages API adapter (streaming and non-streaming).

    Key from ``ANTHROPIC_API_KEY`` (or ``api_key=``); extra headers such as ``anthropic-beta``
    through the ``headers`` option; provider parameters (``thinking``, ``top_k``,
    ``stop_sequences``, ``metadata``, ...) as call keywords, engine params or
    ``request.options``, merged into the body as they are.
    """

    name: ClassVar[str] = "anthropic"
    key_provider: ClassVar[str] = "anthropic"
    default_base_url: ClassVar[str] = "https://api.anthropic.com/v1"
    extra_retry_statuses: ClassVar[tuple[int, ...]] = (529,)

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
        if problems:
            raise ValidationError("invalid_request", errors=problems)

    def requires_structured_finalize(self, request: Request) -> bool:
        """Structured output forces a synthetic tool, which would shut out the user's tools: with
        both, the chat loop runs the tools first and asks for the structured answer after."""
        return bool(request.tools) and _json_format(request.response_format) is not None

    # -- request ----------------------------------------------------------------------------------

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """``POST {base}/messages`` with the key, the API version and the JSON body."""
        body = self.build_body(request, call, stream=stream)
        headers = {"x-api-key": self.api_key(call), "anthropic-version": API_VERSION}
        return self.json_request(call, f"{self.base(call)}/messages", body, headers)

    def build_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Messages API body for ``request`` (no key involved: safe to log)."""
        extras: dict[str, Any] = {**call.params, **request.options}
        thinking = extras.get("thinking")
        max_tokens = request.max_tokens
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
            budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) else None
            if _thinking_enabled(thinking) and isinstance(budget, int) and budget >= max_tokens:
                max_tokens = budget + DEFAULT_MAX_TOKENS  # the budget must stay below max_tokens
        body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens}
        system = [text_of(m.content) for m in request.messages if m.role == Role.SYSTEM]
        if system:
            body["system"] = "\n\n".join(system)
        body["messages"] = self.wire_messages(request.messages)
        tools = [self.wire_tool(tool.name, tool.description, tool.schema) for tool in request.tools]
        extra_tools = extras.pop("tools", None)  # provider tools (web search, ...) join ours
        if isinstance(extra_tools, list | tuple):
            tools.extend(extra_tools)
        elif extra_tools is not None:
            extras["tools"] = extra_tools
        choice = self.wire_tool_choice(request.tool_choice, bool(tools))
        synthetic = structured_tool_name(request)
        if synthetic is not None:
            fmt = _json_format(request.response_format)
            assert fmt is not None
            tools.append(self.wire_tool(synthetic, STRUCTURED_TOOL_DESCRIPTION, fmt[1]))
            # Thinking refuses a forced tool choice; then the model is only offered the tool.
            forced = not _thinking_enabled(thinking)
            choice = {"type": "tool", "name": synthetic} if forced else {"type": "auto"}
        if tools:
            body["tools"] = tools
        if choice is not None:
            body["tool_choice"] = choice
        if request.temperature is not None:
            body["temperature"] = request.temperature
        body.update(extras)
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        return body

    @staticmethod
    def wire_tool(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """One tool definition."""
        tool: dict[str, Any] = {"name": name}
        if description:
            tool["description"] = description
        tool["input_schema"] = dict(schema)
        return tool

    @staticmethod
    def wire_tool_choice(choice: Any, has_tools: bool) -> dict[str, Any] | None:
        """``tool_choice`` on the wire: auto/none/any/tool; None when nothing is to be sent."""
        if choice is None:
            return None
        if isinstance(choice, Mapping):
            if choice.get("type") == "function" and isinstance(choice.get("function"), Mapping):
                return {"type": "tool", "name": choice["function"].get("name")}
            return dict(choice)
        if isinstance(choice, tuple):
            return {"type": "tool", "name": choice[1]}
        if choice in ("auto", "none"):
            return {"type": choice} if has_tools else None
        if choice == "required":
            return {"type": "any"}
        return {"type": "tool", "name": choice}

    def wire_messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """Conversation turns (system messages are hoisted elsewhere). Consecutive tool results
        become ONE user turn of ``tool_result`` blocks, as parallel tool calls require."""
        wire: list[dict[str, Any]] = []
        results: list[dict[str, Any]] | None = None
        for message in messages:
            role = message.role
            if role == Role.SYSTEM:
                continue
            if role == Role.TOOL:
                block = self.tool_result_block(message)
                if results is None:
                    results = [block]
                    wire.append({"role": "user", "content": results})
                else:
                    results.append(block)
                continue
            results = None
            if role == Role.ASSISTANT:
                turn = self.assistant_turn(message)
                if turn is not None:
                    wire.append(turn)
            else:
                wire.append({"role": "user", "content": self.user_content(message.content)})
        return wire

    def user_content(self, content: Any) -> str | list[dict[str, Any]]:
        """A string, or text and image blocks when there is an image."""
        if isinstance(content, str):
            return content
        if not any(isinstance(part, ImagePart) for part in content):
            return text_of(content)
        blocks: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, TextPart):
                blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                blocks.append(self.image_block(part.image))
        return blocks

    @staticmethod
    def image_block(image: Image) -> dict[str, Any]:
        """An image as a URL source or a base64 source (``detail`` has no Anthropic meaning)."""
        source = image.source
        if source.type == "url":
            return {"type": "image", "source": {"type": "url", "url": str(source.value)}}
        if source.type == "base64":
            data = str(source.value)
        else:
            data = base64.b64encode(image.to_bytes()).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": image.mime_type, "data": data},
        }

    def tool_result_block(self, message: Message) -> dict[str, Any]:
        """A tool message as a ``tool_result`` block (text, or text and images)."""
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        block["content"] = self.user_content(message.content)
        if message.metadata.get("is_error") is True:
            block["is_error"] = True
        return block

    def assistant_turn(self, message: Message) -> dict[str, Any] | None:
        """Thinking blocks first (verbatim, with their signatures), then text, then ``tool_use``.

        An assistant message with nothing to say is left out: the API rejects empty turns.
        """
        blocks = list(_thinking_blocks(message.metadata.get("reasoning_blocks")))
        text = text_of(message.content)
        if not blocks and not message.tool_calls:
            return {"role": "assistant", "content": text} if text else None
        if text:
            blocks.append({"type": "text", "text": text})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        return {"role": "assistant", "content": blocks} if blocks else None

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
        turn.response_id = data.get("id") if isinstance(data.get("id"), str) else None
        turn.model = data.get("model") if isinstance(data.get("model"), str) else None
        reasoning: list[str] = []
        for block in data["content"]:
            if not isinstance(block, Mapping):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                turn.text_parts.append(block["text"])
                turn.citations.extend(block.get("citations") or ())
            elif kind == "tool_use":
                turn.tool_call(
                    str(block.get("id") or ""),
                    str(block.get("name") or ""),
                    None,
                    block.get("input"),
                )
            elif kind == "thinking":
                text = str(block.get("thinking") or "")
                reasoning.append(text)
                turn.reasoning(text, block.get("signature") or None, THINKING_ID)
            elif kind == "redacted_thinking":
                reasoning.append("")
                turn.reasoning("", str(block.get("data") or ""), REDACTED_THINKING_ID)
        turn.stop(data)
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
