"""The Bedrock adapter: pre-flight, the signed Converse request, and the answer (an AWS event
stream, or a whole body), folded into one ``Response``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.base import Framing, HttpAdapter, json_or_none, raise_image_errors
from ...adapters.eventstream import EventStreamDecoder
from ...adapters.http import HttpRequest, HttpResult
from ...adapters.options import encode_body
from ...adapters.urls import path_segment
from ...data.messages import ImagePart
from ...data.request import Request
from ...data.response import Response
from ...errors import AdapterError, ConfigurationError, EngineError, ValidationError
from ..wire import refuse_unsupported
from . import auth
from .caching import cache_problems
from .decode import BedrockStreamDecoder
from .errors import http_error
from .parts import parts_and_tools_problems
from .request import build_body
from .settings import EVENT_STREAM_TYPE, HOST_TEMPLATE, REGION_VARIABLES, UNSUPPORTED_NEUTRAL
from .thinking import reasoning_fields, reasoning_problems

_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
_CREDENTIAL_OPTIONS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "profile")


class Bedrock(HttpAdapter):
    """Amazon Bedrock's Converse and ConverseStream APIs (streaming and non-streaming).

    Region from ``region=`` (an adapter option, per call in ``adapter_opts=``, or a constructor
    argument), else
    ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else the AWS profile's. Authentication, first found:
    the ``api_key=`` call keyword (a Bedrock API key, sent as ``Bearer``); explicit
    ``aws_access_key_id`` / ``aws_secret_access_key`` / ``aws_session_token`` or a ``profile``
    (SigV4); a Bedrock API key from ``allm.keys`` or ``AWS_BEARER_TOKEN_BEDROCK``; else SigV4
    with the standard AWS credential chain (botocore, extra ``bedrock``). Converse's own fields
    (``guardrail_config``, ``performance_config``, ...) and ``top_p`` / ``stop`` are read from
    engine params or ``request.options``; anything else goes to the model in
    ``additionalModelRequestFields`` (``top_k``, ``thinking``, ...); ``reasoning=`` and prompt
    caching are written per model family (``models.py``, docs/one-request.md).
    ``provider_options=
    {"bedrock": {...}}`` is merged into the Converse body as written (its wire names).
    """

    name: ClassVar[str] = "bedrock"
    key_provider: ClassVar[str] = "bedrock"
    output_modes: ClassVar[tuple[str, ...]] = ("tool", "prompted")

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        **http: Any,
    ) -> None:
        super().__init__(**http)
        self.region = region
        self.profile = profile
        self.aws_access_key_id = aws_access_key_id
        self.aws_secret_access_key = aws_secret_access_key
        self.aws_session_token = aws_session_token
        auth.remember(aws_secret_access_key, aws_session_token)

    def option(self, call: Call, name: str) -> Any:
        """A Bedrock setting: an engine param, else the adapter option, constructor or config."""
        value = call.params.get(name)
        return value if value is not None else self.setting(call, name)

    # -- pre-flight -------------------------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """Images, documents, audio and provider tools, the model id (ARNs too), the neutral
        fields and tool choice Converse has, reasoning and prompt caching as the model takes
        them."""
        raise_image_errors(request)
        if not isinstance(request.model, str) or not request.model:
            raise EngineError("missing_model", "Bedrock needs a model id", provider=self.name)
        path_segment(request.model, provider=self.name, encoded_slashes=True)
        refuse_unsupported(request, UNSUPPORTED_NEUTRAL)
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if request.tool_choice == "none" and request.tools:
            problems.append((("tool_choice",), "unsupported_tool_choice"))
        elif request.tool_choice not in (None, "auto", "none") and not request.tools:
            problems.append((("tool_choice",), "forcing_choice_without_tools"))
        fmt = request.response_format
        if isinstance(fmt, Mapping) and fmt.get("type") not in (None, "text"):
            problems.append((("response_format",), "unsupported_response_format"))
        for index, message in enumerate(request.messages):
            if not isinstance(message.content, tuple):
                continue
            for part_index, part in enumerate(message.content):
                if isinstance(part, ImagePart) and part.image.source.type == "url":
                    problems.append((("messages", index, "content", part_index), "image_url"))
        problems.extend(parts_and_tools_problems(request))
        problems.extend(reasoning_problems(request, call.params))
        problems.extend(cache_problems(request))
        if problems:
            raise ValidationError("invalid_request", errors=problems)
        self.region_for(call)

    def region_for(self, call: Call) -> str:
        """The region: the option, the environment, the profile; a ``ConfigurationError`` when
        none is found or it cannot be a host name's label."""
        region = self.option(call, "region")
        for variable in REGION_VARIABLES:
            region = region or os.environ.get(variable)
        if not region and not self.setting(call, "base_url"):
            region = auth.region_of_profile(self.option(call, "profile"))
        if not region:
            if self.setting(call, "base_url"):
                return "us-east-1"  # a custom endpoint still needs a signing region
            raise ConfigurationError(
                "invalid_option",
                problems=[
                    "Bedrock needs a region: region=, AWS_REGION, AWS_DEFAULT_REGION or a profile's"
                ],
            )
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise ConfigurationError(
                "invalid_option", problems=[f"region {region!r} is not an AWS region name"]
            )
        return region

    def reasoning_sent(self, request: Request, call: Call) -> dict[str, Any]:
        """``additionalModelRequestFields.thinking`` / ``.reasoningConfig`` (and the
        ``inferenceConfig.maxTokens`` raised above a budget), nested as in the body."""
        return reasoning_fields(request, call.params)

    # -- request ----------------------------------------------------------------------------------

    def url(self, request: Request, call: Call, *, stream: bool) -> str:
        """``{base}/model/{modelId}/converse`` or ``/converse-stream`` (the id percent-encoded)."""
        model = path_segment(request.model, provider=self.name, encoded_slashes=True)
        base = self.setting(call, "base_url") or HOST_TEMPLATE.format(region=self.region_for(call))
        action = "converse-stream" if stream else "converse"
        return f"{str(base).rstrip('/')}/model/{model}/{action}"

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The JSON body, then the credentials: a Bearer key or a SigV4 signature over it."""
        body = encode_body(build_body(request, call), call)
        url = self.url(request, call, stream=stream)
        headers = {
            "content-type": "application/json",
            "accept": EVENT_STREAM_TYPE if stream else "application/json",
            **self.extra_headers(call),
        }
        headers.update(self.credentials_headers(call, url, headers, body))
        return HttpRequest("POST", url, tuple(headers.items()), body)

    def credentials_headers(
        self, call: Call, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """``authorization`` (and the SigV4 headers), by the order in the class docstring."""
        explicit = {name: self.option(call, name) for name in _CREDENTIAL_OPTIONS}
        bearer = None
        if call.api_key or not any(explicit.values()):
            bearer = self.optional_api_key(call)
        if bearer is not None:
            return {"authorization": f"Bearer {bearer}"}
        creds = auth.credentials(explicit)
        return auth.sign("POST", url, headers, body, creds, self.region_for(call))

    # -- answers ----------------------------------------------------------------------------------

    def frame_decoder(self, limit: int) -> Framing:
        """ConverseStream answers in AWS event-stream messages, not SSE."""
        return EventStreamDecoder(limit)

    def stream_decoder(self, request: Request, call: Call) -> BedrockStreamDecoder:
        """A fresh decoder for one stream."""
        return BedrockStreamDecoder(self.name, call.request_id, request.model)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole Converse body, read by the stream decoder and folded, so the non-streaming
        path gives the same ``Response`` as the stream would."""
        from ...collector import StreamCollector
        from ...events import ErrorEvent

        decoder = BedrockStreamDecoder(self.name, call.request_id, request.model)
        decoder.start(result)
        events = decoder.finish_body(result.body)
        failed = next((e.error for e in events if isinstance(e, ErrorEvent)), None)
        if isinstance(failed, AdapterError):
            raise failed
        collector = StreamCollector(request_id=call.request_id)
        collector.apply_all(events)
        return replace(collector.to_response(), raw=json_or_none(result.body))

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """An HTTP error: ``{"message": ...}`` with its type in ``x-amzn-ErrorType``."""
        return http_error(self.name, result, call.request_id)
