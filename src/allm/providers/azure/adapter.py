"""The Azure OpenAI adapter: the OpenAI request builders and decoders at an Azure resource."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ... import _secrets
from ...adapters import Call
from ...adapters.http import HttpResult, header_problem
from ...adapters.urls import path_segment
from ...data.request import Request
from ...data.response import Response
from ...errors import AdapterError, ConfigurationError
from ..openai import CHAT_COMPLETIONS, OpenAI
from .errors import azure_error, classify_azure_error
from .settings import azure_url, resource_base


class AzureOpenAI(OpenAI):
    """Azure OpenAI. Where: ``resource=`` (``https://{resource}.openai.azure.com/openai/v1``),
    else ``base_url=``, else ``AZURE_OPENAI_ENDPOINT``; ``api_version=`` selects the dated
    deployment URLs instead of the v1 API. Auth: ``AZURE_OPENAI_API_KEY`` (or ``api_key=``) sent
    as ``api-key``, or ``azure_ad_token_provider=`` (a callable returning a Microsoft Entra
    token, called for each call and sent as a bearer token). The model is the deployment name;
    ``endpoint=`` picks Chat Completions or Responses as for ``OpenAI``."""

    name: ClassVar[str] = "azure"
    key_provider: ClassVar[str] = "azure"
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        *,
        resource: str | None = None,
        api_version: str | None = None,
        azure_ad_token_provider: Callable[[], str] | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.resource = resource
        self.api_version = api_version
        self.azure_ad_token_provider = azure_ad_token_provider

    def __repr__(self) -> str:
        return f"AzureOpenAI(resource={self.resource!r}, base_url={self.base_url!r})"

    def base(self, call: Call) -> str:
        """The resource's URL: ``base_url``, else the ``resource``'s, else
        ``AZURE_OPENAI_ENDPOINT`` (each without a trailing slash)."""
        explicit = self.setting(call, "base_url")
        if explicit:
            return str(explicit).rstrip("/")
        resource = self.setting(call, "resource")
        if resource is not None:
            return resource_base(resource) + "/openai/v1"
        endpoint = os.environ.get("AZURE_OPENAI_ENDPOINT", "").strip()
        if endpoint:
            return endpoint.rstrip("/")
        raise ConfigurationError(
            "invalid_option",
            problems=[
                "azure needs resource= (the Azure OpenAI resource name), base_url= or"
                " AZURE_OPENAI_ENDPOINT"
            ],
        )

    def configured_home(self, settings: Mapping[str, Any]) -> str:
        """The configured ``base_url``, else the configured resource's URL."""
        if settings.get("base_url"):
            return str(settings["base_url"]).rstrip("/")
        resource = settings.get("resource")
        return resource_base(resource) + "/openai/v1" if resource is not None else ""

    def check(self, request: Request, call: Call) -> None:
        """The resource, the deployment name (a URL path segment on dated API versions), then
        the OpenAI checks."""
        self.base(call)
        version = self.setting(call, "api_version")
        if version is not None and not isinstance(version, str):
            raise ConfigurationError(
                "invalid_option", problems=[f"api_version must be a string, got {version!r}"]
            )
        if version and self.endpoint_for(request, call) == CHAT_COMPLETIONS:
            path_segment(request.model, provider=self.name)
        super().check(request, call)

    def endpoint_url(self, request: Request, call: Call, endpoint: str) -> str:
        return azure_url(
            self.base(call), endpoint, str(request.model or ""), self.setting(call, "api_version")
        )

    def auth_headers(self, call: Call) -> dict[str, str]:
        """A bearer token from ``azure_ad_token_provider``, else the key as ``api-key``."""
        provider = self.setting(call, "azure_ad_token_provider")
        if provider is None:
            return {"api-key": self.api_key(call)}
        token = provider()
        problem = header_problem(token) if isinstance(token, str) and token else "not a string"
        if problem is not None:
            raise ConfigurationError(
                "invalid_key",
                problems=[f"the azure_ad_token_provider's token cannot be sent: {problem}"],
            )
        _secrets.remember(token)
        return {"authorization": f"Bearer {token}"}

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        try:
            return super().parse_response(result, request, call)
        except AdapterError as error:
            from ..wire import decode_json

            try:
                body = decode_json(result.body)
            except (ValueError, UnicodeDecodeError):
                raise error from None
            raise azure_error(error, body) from None

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        return classify_azure_error(self.name, result, call)
