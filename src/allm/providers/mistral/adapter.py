"""The Mistral adapter: Mistral's chat completions, on the OpenAI Chat Completions machinery."""

from __future__ import annotations

from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import StreamDecoder
from ...adapters.http import HttpResult
from ...data.messages import AudioPart, DocumentPart, Message
from ...data.request import Request
from ...data.response import Response
from ...errors import AdapterError
from ..openai import CHAT_COMPLETIONS, OpenAICompatible, parse_chat_body
from ..wire import refuse_unsupported
from .decode import MistralStreamDecoder, finish_error, normalized_body
from .errors import classify_mistral_error
from .request import adapt_body, mistral_content, mistral_part_rule


class Mistral(OpenAICompatible):
    """Mistral AI (``MISTRAL_API_KEY``, ``https://api.mistral.ai/v1``; a ``base_url`` option
    overrides it). ``tool_choice="required"`` is sent as ``"any"``, ``seed`` as
    ``random_seed``; ``safe_prompt`` (and any other Mistral field) passes through as a call
    keyword or option; tool-call ids are sent as the nine letters and digits Mistral requires;
    ``logprobs`` is refused (the API has none);
    ``thinking`` content chunks (magistral) are reasoning; ``model_length`` is ``length``."""

    name: ClassVar[str] = "mistral"
    key_provider: ClassVar[str] = "mistral"
    default_base_url: ClassVar[str] = "https://api.mistral.ai/v1"
    requires_key: ClassVar[bool] = True
    empty_tool_turn_content: ClassVar[bool] = True

    def endpoint_for(self, request: Request, call: Call) -> str:
        """Mistral speaks Chat Completions only."""
        return CHAT_COMPLETIONS

    def check(self, request: Request, call: Call) -> None:
        """The shared checks; Mistral's chat API returns no token log probabilities."""
        super().check(request, call)
        refuse_unsupported(request, ("logprobs",))

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization: Bearer`` with the Mistral key (required)."""
        return {"authorization": f"Bearer {self.api_key(call)}"}

    def chat_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The Chat Completions body in Mistral's spelling."""
        return adapt_body(super().chat_body(request, call, stream=stream))

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
