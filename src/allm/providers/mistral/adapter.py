"""The Mistral adapter: Mistral's chat completions, on the OpenAI Chat Completions machinery."""

from __future__ import annotations

from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import StreamDecoder
from ...adapters.http import HttpResult
from ...data.messages import AudioPart, DocumentPart, Message
from ...data.reasoning import PromptCache, Reasoning
from ...data.request import Request
from ...data.response import Response
from ...errors import AdapterError
from ..openai import CHAT_COMPLETIONS, OpenAICompatible, parse_chat_body
from ..reasoning import refuse, unsupported
from ..wire import unsupported_fields
from .decode import MistralStreamDecoder, finish_error, normalized_body
from .errors import classify_mistral_error
from .request import adapt_body, mistral_content, mistral_part_rule

# Mistral's ``reasoning_effort`` takes ``"none"`` and ``"high"`` (its chat completions
# reference); ``"xhigh"`` asks for no less than the most it has.
_EFFORTS = {"none": "none", "high": "high", "xhigh": "high"}


class Mistral(OpenAICompatible):
    """Mistral AI (``MISTRAL_API_KEY``, ``https://api.mistral.ai/v1``; a ``base_url`` option
    overrides it). ``tool_choice="required"`` is sent as ``"any"``, ``seed`` as
    ``random_seed``; ``safe_prompt`` (and any other Mistral field) passes through as a call
    keyword or option; tool-call ids are sent as the nine letters and digits Mistral requires;
    ``logprobs`` is refused (the API has none); ``reasoning_effort`` is ``"none"`` or ``"high"``
    (``"xhigh"`` is sent as ``"high"``; a lower effort, a summary and ``verbosity`` are refused);
    ``thinking`` content chunks (magistral) are reasoning; ``model_length`` is ``length``."""

    name: ClassVar[str] = "mistral"
    key_provider: ClassVar[str] = "mistral"
    default_base_url: ClassVar[str] = "https://api.mistral.ai/v1"
    requires_key: ClassVar[bool] = True
    empty_tool_turn_content: ClassVar[bool] = True

    def endpoint_for(self, request: Request, call: Call) -> str:
        """Mistral speaks Chat Completions only."""
        return CHAT_COMPLETIONS

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization: Bearer`` with the Mistral key (required)."""
        return {"authorization": f"Bearer {self.api_key(call)}"}

    def chat_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Chat Completions body in Mistral's spelling."""
        body = adapt_body(super().chat_body(request, call, stream=stream))
        if body.get("reasoning_effort") in _EFFORTS:
            body["reasoning_effort"] = _EFFORTS[body["reasoning_effort"]]
        return body

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """``reasoning_effort`` as sent (``"xhigh"`` became ``"high"``)."""
        effort = super().reasoning_sent(request, call).get("reasoning_effort")
        return {"reasoning_effort": _EFFORTS[effort]} if effort in _EFFORTS else {}

    def check(self, request: Request, call: Call) -> None:
        """The shared checks, then what Mistral's body lacks: token log probabilities, and
        ``prompt_cache_retention`` (it takes ``prompt_cache_key``), so a long retention is
        refused; a reasoning effort other than none, high (and xhigh), a reasoning summary and
        ``verbosity`` (the reference has neither)."""
        super().check(request, call)
        problems = unsupported_fields(request, ("logprobs",))
        given = request.reasoning
        if isinstance(given, Reasoning) and given.effort not in (None, *_EFFORTS):
            problems.append(unsupported("reasoning", "effort"))
        if call.params.get("reasoning_effort") not in (None, *_EFFORTS):
            problems.append(unsupported("reasoning_effort"))
        for alias in ("reasoning_summary", "verbosity"):
            if call.params.get(alias) is not None:
                problems.append(unsupported(alias))
        cache = request.prompt_cache
        if isinstance(cache, PromptCache) and cache.retention == "long":
            problems.append(unsupported("prompt_cache", "retention"))
        refuse(problems)

    def chat_part_rule(self, part: DocumentPart | AudioPart) -> str | None:
        """Documents at a URL or as text, and audio; no document bytes."""
        return mistral_part_rule(part)

    def chat_user_content(self, message: Message) -> Any:
        """Chat Completions' blocks, with Mistral's ``document_url`` and ``input_audio``."""
        return mistral_content(message)

    def chat_provider_kinds(self, model: str) -> tuple[str, ...]:
        """Mistral's chat completions run no provider tools (web search is an Agents API tool)."""
        return ()

    def stream_decoder(self, request: Request, call: Call) -> StreamDecoder:
        return MistralStreamDecoder(self.name, call, lenient=True)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole completion, its content chunks read as text and thinking."""
        from ..wire import decode_json

        try:
            body = decode_json(result.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and body.get("choices"):
            response = parse_chat_body(
                normalized_body(body), self.name, call, result.headers.get("x-request-id")
            )
            if response.raw_finish_reason == "error":
                raise finish_error(self.name, call, response.metadata.get("provider_request_id"))
            return response
        return super().parse_response(result, request, call)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        return classify_mistral_error(self.name, result, call)
