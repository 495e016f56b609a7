"""The OpenAI adapters: ``OpenAI`` (both wires) and ``OpenAICompatible`` (Chat Completions)."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from ..._json import loads_wire as json_loads
from ...adapters import Call
from ...adapters.base import HttpAdapter, StreamDecoder, raise_image_errors
from ...adapters.http import HttpRequest, HttpResult
from ...data.messages import AudioPart, DocumentPart, Message
from ...data.request import Request
from ...data.response import Response
from ...data.server_tools import function_tools
from ...errors import AdapterError, ConfigurationError, FieldError
from ..parts import part_and_tool_problems
from ..reasoning import refuse
from ..wire import unsupported_fields
from .chat_decode import ChatStreamDecoder, parse_chat_body
from .chat_request import (
    chat_content,
    chat_messages,
    chat_neutral_fields,
    chat_provider_kinds,
    chat_response_format,
    chat_tool_choice,
    chat_tools,
    chat_web_search,
)
from .errors import api_error, classify_http_error, unreadable_error
from .request import account_headers, json_schema_format, merge_extras, openai_part_rule
from .responses_request import RESPONSES_PROVIDER_KINDS
from .settings import (
    _COMPLETION_TOKEN_MODELS,
    _OWN_PARAMS,
    _PATHS,
    _REASONING_MODELS,
    _RESPONSES_MODELS,
    _VERBOSITY_MODELS,
    CHAT_COMPLETIONS,
    MAX_STOP_SEQUENCES,
    MIN_OUTPUT_TOKENS,
    RESPONSES,
    RESPONSES_UNSUPPORTED,
    OpenAIAccount,
    _log,
    reasoning_params,
)
from .thinking import cache_fields, chat_reasoning_field, reasoning_problems, responses_reasoning

# -- the adapters ---------------------------------------------------------------------------------


class _OpenAIWire(OpenAIAccount, HttpAdapter):
    """What ``OpenAI`` and ``OpenAICompatible`` share: endpoints, the read loop, errors."""

    lenient: ClassVar[bool] = False
    output_modes: ClassVar[tuple[str, ...]] = ("native", "tool", "prompted")
    validate_reasoning: ClassVar[bool] = True
    # OpenRouter spells the effort ``reasoning: {effort}``.
    nested_reasoning: ClassVar[bool] = False
    default_endpoint: ClassVar[str | None] = None
    # Local servers (llama.cpp, vLLM, LM Studio) refuse ``content: null`` beside tool calls.
    empty_tool_turn_content: ClassVar[bool] = False
    # OpenAI's own bounds (``limit_problems``); compatible servers set their own.
    openai_limits: ClassVar[bool] = True

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        max_line_bytes: int | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.endpoint = endpoint
        self.max_line_bytes = max_line_bytes

    # -- configuration ---------------------------------------------------------------------------

    def endpoint_for(self, request: Request, call: Call) -> str:
        """``chat_completions`` or ``responses`` (a ConfigurationError for anything else)."""
        chosen = self.setting(call, "endpoint")
        if chosen is None:
            if self.default_endpoint is not None:
                return self.default_endpoint
            model = str(request.model or "")
            return RESPONSES if _RESPONSES_MODELS.match(model) else CHAT_COMPLETIONS
        if chosen not in _PATHS:
            raise ConfigurationError(
                "invalid_option",
                problems=[f"endpoint must be 'chat_completions' or 'responses', got {chosen!r}"],
            )
        return str(chosen)

    def line_limit(self, call: Call) -> int:
        """The longest SSE line accepted: ``max_line_bytes`` (also as a call keyword), else the
        base's ``max_sse_line_bytes``."""
        value = call.params.get("max_line_bytes") or self.setting(call, "max_line_bytes")
        if isinstance(value, int) and value > 0:
            return value
        return super().line_limit(call)

    def requires_structured_finalize(self, request: Request) -> bool:
        """Tools combined with a json_schema format take the two-pass finalize (design §20.6)."""
        return bool(request.tools) and json_schema_format(request.response_format) is not None

    def check(self, request: Request, call: Call) -> None:
        """Images, the endpoint and the reasoning controls, before any key or I/O."""
        raise_image_errors(request)
        model = str(request.model or "")
        responses = self.endpoint_for(request, call) == RESPONSES
        if responses:
            problems = unsupported_fields(request, RESPONSES_UNSUPPORTED)
            problems += part_and_tool_problems(
                request, partial(openai_part_rule, audio=False, urls=True), RESPONSES_PROVIDER_KINDS
            )
        else:
            problems = part_and_tool_problems(
                request, self.chat_part_rule, self.chat_provider_kinds(model)
            )
        reasoning_params(call, validate=self.validate_reasoning)
        refuse(
            [
                *problems,
                *reasoning_problems(request, responses),
                *self.limit_problems(request, responses),
            ]
        )

    def chat_part_rule(self, part: DocumentPart | AudioPart) -> str | None:
        """Why Chat Completions cannot carry ``part``: a document URL, audio not wav or mp3."""
        return openai_part_rule(part, audio=True, urls=False)

    def chat_user_content(self, message: Message) -> Any:
        """A user message's content in Chat Completions' blocks."""
        return chat_content(message)

    def chat_provider_kinds(self, model: str) -> tuple[str, ...]:
        """The provider tools Chat Completions runs for ``model``."""
        return chat_provider_kinds(model)

    def limit_problems(self, request: Request, responses: bool) -> list[FieldError]:
        """A forcing ``tool_choice`` needs tools; and on OpenAI itself the bounds its schema
        states: at most four ``stop`` sequences on Chat Completions, a ``max_output_tokens`` of at
        least 16 on Responses."""
        problems: list[FieldError] = []
        # Chat Completions carries provider tools outside ``tools``, so only functions count there
        carried = request.tools if responses else function_tools(request.tools)
        if request.tool_choice not in (None, "auto", "none") and not carried:
            # the API answers 400; a choice that forces nothing is left out of the body instead
            problems.append((("tool_choice",), "forcing_choice_without_tools"))
        if not self.openai_limits:
            return problems
        if responses and request.max_tokens is not None and request.max_tokens < MIN_OUTPUT_TOKENS:
            problems.append((("max_tokens",), "out_of_range"))
        if not responses and len(request.stop) > MAX_STOP_SEQUENCES:
            problems.append((("stop",), "too_many_stop_sequences"))
        return problems

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """``reasoning_effort`` (Chat Completions) or ``reasoning`` (Responses) as sent."""
        if self.endpoint_for(request, call) == RESPONSES:
            return responses_reasoning(request, call, validate=self.validate_reasoning)
        found = self.chat_reasoning(str(request.model or ""), call)
        found.pop("verbosity", None)
        return {**found, **chat_reasoning_field(request, nested=self.nested_reasoning)}

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (and organization/project) headers."""
        return account_headers(self.api_key(call), self.organization, self.project)

    # -- the four pieces --------------------------------------------------------------------------

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The HTTP request for the chosen endpoint (the key is resolved here, after checks)."""
        endpoint = self.endpoint_for(request, call)
        if endpoint == RESPONSES:
            from . import responses_request

            body = responses_request.build_body(
                request, call, stream=stream, validate=self.validate_reasoning
            )
        else:
            body = self.chat_body(request, call, stream=stream)
        return self.json_request(
            call, self.endpoint_url(request, call, endpoint), body, self.auth_headers(call)
        )

    def endpoint_url(self, request: Request, call: Call, endpoint: str) -> str:
        """Where the chosen endpoint's request goes: the base URL and the endpoint's path."""
        return self.base(call) + _PATHS[endpoint]

    def chat_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Chat Completions body (design §20.2)."""
        model = str(request.model or "")
        body: dict[str, Any] = {
            "model": model,
            "messages": chat_messages(
                request,
                empty_tool_turn_content=self.empty_tool_turn_content,
                user_content=self.chat_user_content,
            ),
        }
        tools = chat_tools(request.tools)
        if tools:
            body["tools"] = tools
        body.update(chat_web_search(request.tools))
        if request.tool_choice is not None and tools:
            body["tool_choice"] = chat_tool_choice(request.tool_choice)
        response_format = chat_response_format(request.response_format)
        if response_format is not None:
            body["response_format"] = response_format
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body[self.max_tokens_field(model)] = request.max_tokens
        body.update(self.chat_reasoning(model, call))
        body.update(chat_reasoning_field(request, nested=self.nested_reasoning))
        body.update(cache_fields(request))
        if stream:
            body["stream"] = True
            if "stream_options" not in request.options and "stream_options" not in call.params:
                body["stream_options"] = {"include_usage": True}
        merge_extras(body, request, call, _OWN_PARAMS)
        body.update(chat_neutral_fields(request))  # a neutral field outranks a raw option
        return body

    def max_tokens_field(self, model: str) -> str:
        """``max_completion_tokens`` for the models that reject ``max_tokens``."""
        return "max_completion_tokens" if _COMPLETION_TOKEN_MODELS.match(model) else "max_tokens"

    def chat_reasoning(self, model: str, call: Call) -> dict[str, Any]:
        """Reasoning controls on Chat Completions: effort (and verbosity on gpt-5), else dropped."""
        found = reasoning_params(call, validate=True)
        out: dict[str, Any] = {}
        if "reasoning_effort" in found:
            if _REASONING_MODELS.match(model):
                out["reasoning_effort"] = found["reasoning_effort"]
            else:
                _log.debug("reasoning_effort dropped: %s is not a reasoning model", model)
        if "verbosity" in found:
            if _VERBOSITY_MODELS.match(model):
                out["verbosity"] = found["verbosity"]
            else:
                _log.debug("verbosity dropped: %s does not take it", model)
        if "reasoning_summary" in found:
            _log.debug("reasoning_summary dropped: Chat Completions has no reasoning summary")
        return out

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        """A fresh decoder for the chosen endpoint."""
        if self.endpoint_for(request, call) == RESPONSES:
            from . import responses_decode

            return responses_decode.ResponsesStreamDecoder(self.name, call)
        return ChatStreamDecoder(self.name, call, lenient=self.lenient)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole non-streaming body (``malformed_response`` when it cannot be read)."""
        provider_request_id = result.headers.get("x-request-id")
        try:
            body = json_loads(result.body)
        except (ValueError, UnicodeDecodeError):
            raise unreadable_error(
                self.name, call, result.status, result.headers, result.body
            ) from None
        if not isinstance(body, dict):
            raise unreadable_error(self.name, call, result.status, result.headers, result.body)
        endpoint = self.endpoint_for(request, call)
        if (
            body.get("error") is not None
            and not body.get("choices")
            and not body.get("output")
            and (endpoint == CHAT_COMPLETIONS or body.get("object") != "response")
        ):
            raise api_error(self.name, call, body["error"], status=None, headers=result.headers)
        if endpoint == RESPONSES:
            from . import responses_decode

            return responses_decode.parse_body(body, self.name, call, provider_request_id)
        return parse_chat_body(body, self.name, call, provider_request_id)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error status and body as an ``AdapterError``."""
        return classify_http_error(self.name, result, call)

    # -- the read loop -----------------------------------------------------------------------------


class OpenAI(_OpenAIWire):
    """OpenAI's API: Chat Completions and Responses (chosen per call, see the module doc).

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``,
    ``headers``, ``timeout``, ``stream_timeout``, ``http_client``, ``async_http_client``,
    ``endpoint``, ``max_line_bytes``; plus ``organization`` / ``project`` headers.
    """

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"


class OpenAICompatible(_OpenAIWire):
    """A server speaking the Chat Completions wire at ``base_url`` (required).

    The key is optional (``OPENAI_COMPATIBLE_API_KEY`` or ``api_key=``): without one no
    ``Authorization`` header is sent. Lenient where such servers differ: missing usage, missing
    ``finish_reason`` (stop, or tool_calls when calls came), EOF after a finish without
    ``[DONE]``, ``delta.reasoning_content`` / ``delta.reasoning`` as reasoning, tool-call deltas
    without ``index``. ``max_tokens`` is sent as ``max_tokens``; reasoning controls pass through
    unvalidated (the server decides). ``endpoint="responses"`` is honoured when configured.
    """

    name: ClassVar[str] = "openai_compatible"
    key_provider: ClassVar[str] = "openai_compatible"
    default_base_url: ClassVar[str] = ""
    requires_key: ClassVar[bool] = False
    lenient: ClassVar[bool] = True
    validate_reasoning: ClassVar[bool] = False
    default_endpoint: ClassVar[str | None] = CHAT_COMPLETIONS
    openai_limits: ClassVar[bool] = False

    def check(self, request: Request, call: Call) -> None:
        """A ``base_url`` is required; then the shared checks."""
        if not self.base(call):
            raise ConfigurationError(
                "invalid_option",
                problems=[
                    "openai_compatible needs a base_url (adapter_opts, the constructor or the"
                    " base_url= call keyword), e.g. 'http://localhost:11434/v1'"
                ],
            )
        super().check(request, call)

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` only when a key is configured."""
        key = self.optional_api_key(call)
        headers = {"authorization": f"Bearer {key}"} if key else {}
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        return headers

    def max_tokens_field(self, model: str) -> str:
        """Compatible servers take ``max_tokens``."""
        return "max_tokens"

    def chat_reasoning(self, model: str, call: Call) -> dict[str, Any]:
        """Reasoning effort and verbosity pass through as given; no summary on this wire."""
        found = reasoning_params(call, validate=False)
        return {k: v for k, v in found.items() if k in ("reasoning_effort", "verbosity")}
