"""One JSON exchange with an OpenAI-style REST endpoint (``/embeddings``, ``/moderations``):
the headers, the send, the error classification of the chat wire, the JSON document back.

Shared by the OpenAI embedding and moderation adapters and their OpenAI-compatible variants; the
audio adapters build on its settings and headers too.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

from ..._json import dumps
from ...adapters import Call
from ...adapters.base import json_or_none
from ...adapters.http import HttpRequest, HttpResult, HttpSend, TransportFailure
from ...effects import Effect
from ...errors import AdapterError, ConfigurationError
from .errors import classify_http_error
from .request import account_headers
from .settings import OpenAIAccount

__all__ = ["DEFAULT_TIMEOUT", "OpenAIRest"]

DEFAULT_TIMEOUT = 60.0


class OpenAIRest(OpenAIAccount):
    """Settings, headers and one JSON POST for an OpenAI-style REST endpoint.

    Constructor settings (each also an ``adapter_opts`` key, which wins): ``base_url``,
    ``headers``, ``timeout`` (seconds, default 60), ``http_client``, ``async_http_client``;
    plus ``organization`` / ``project`` headers. ``requires_key = False`` (the compatible
    variants) sends no ``Authorization`` header when no key is configured, and needs a
    ``base_url``.
    """

    name: ClassVar[str] = "openai"
    key_provider: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    requires_key: ClassVar[bool] = True

    def check_base_url(self, call: Call) -> None:
        """A compatible server has no default address: its ``base_url`` is required."""
        if not self.requires_key and not self.setting(call, "base_url"):
            raise ConfigurationError(
                "invalid_option",
                problems=[
                    f"{self.name} needs a base_url (adapter_opts, the constructor or the "
                    "base_url= call keyword), e.g. 'http://localhost:8000/v1'"
                ],
            )

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` (optional for compatible servers), organization and project, then
        the extra headers. Resolves the key."""
        if self.requires_key:
            key: str | None = self.api_key(call)
        else:
            key = self.optional_api_key(call)
        headers = account_headers(key, self.organization, self.project)
        headers.update(self.extra_headers(call))
        return headers

    def json_request(
        self, call: Call, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> HttpRequest:
        """A POST of ``body`` as compact JSON to ``base_url + path``."""
        merged = {"content-type": "application/json", **headers}
        payload = dumps(dict(body)).encode("utf-8")
        return HttpRequest("POST", self.base(call) + path, tuple(merged.items()), payload)

    def exchange(
        self, call: Call, request: HttpRequest
    ) -> Generator[Effect, Any, tuple[dict[str, Any], HttpResult]]:
        """Send ``request`` once; the JSON object answered and the result's head, or raise the
        ``AdapterError`` (transport failure, error status, a body that is not a JSON object)."""
        timeout = float(self.setting(call, "timeout", DEFAULT_TIMEOUT))
        result = yield HttpSend(self.transport(call), request, False, timeout, timeout)
        if isinstance(result, TransportFailure):
            raise AdapterError(
                result.reason, result.message, provider=self.name, request_id=call.request_id
            )
        if result.status >= 400:
            raise self.classify_error(result, call)
        document = json_or_none(result.body)
        if not isinstance(document, dict):
            raise self.malformed(call, result, "the answer is not a JSON object")
        return document, result

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An error status and body as an ``AdapterError`` (the chat wire's mapping)."""
        return classify_http_error(self.name, result, call)

    def malformed(self, call: Call, result: HttpResult, message: str) -> AdapterError:
        """A ``malformed_response`` error for this answer."""
        request_id = result.headers.get("x-request-id")
        return AdapterError(
            "malformed_response",
            message,
            provider=self.name,
            status=result.status,
            request_id=call.request_id,
            metadata={"openai_request_id": request_id} if request_id else {},
        )
