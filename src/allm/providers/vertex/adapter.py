"""The Vertex AI adapter: Gemini (and Claude) models on Google Cloud, with google-auth credentials."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ... import keys
from ...adapters import Call
from ...adapters.base import StreamDecoder, json_or_none
from ...adapters.http import HttpRequest, HttpResult
from ...adapters.urls import path_segment
from ...data.messages import Message, Role
from ...data.request import Request
from ...data.response import Response
from ...effects import Effect
from ...errors import AdapterError, ConfigurationError
from ...events import ErrorEvent, Event, MessageStarted
from ..gemini import Gemini
from ..gemini.errors import _unwrap
from .auth import AccessToken, DefaultCredentials, fresh_token, remember_secrets
from .claude import ClaudeOnVertex, is_claude

__all__ = ["DEFAULT_LOCATION", "EXPRESS_BASE_URL", "Vertex"]

DEFAULT_LOCATION = "global"
EXPRESS_BASE_URL = "https://aiplatform.googleapis.com/v1"
PUBLISHERS = ("google", "anthropic")
# Vertex's own options: read from engine params, adapter options (per call: ``adapter_opts=``)
# or the constructor, and never sent in a request body.
_OWN_OPTIONS = frozenset({"project", "location", "credentials", "publisher"})
_METHODS = {
    ("google", True): "streamGenerateContent?alt=sse",
    ("google", False): "generateContent",
    ("anthropic", True): "streamRawPredict",
    ("anthropic", False): "rawPredict",
}


@dataclass(frozen=True, slots=True)
class _Draft:
    """A request built before any I/O, waiting for its access token (``credentials``), or
    complete (express mode: the key is already in a header)."""

    http_request: HttpRequest
    credentials: Any = None


def _with_token(draft: _Draft, token: str) -> HttpRequest:
    built = draft.http_request
    headers = (("authorization", f"Bearer {token}"), *built.headers)
    return HttpRequest(built.method, built.url, headers, built.body)


class Vertex(Gemini):
    """Gemini on Vertex AI, and Anthropic's Claude models on Vertex (streaming and non-streaming).

    ``project=`` (else ``GOOGLE_CLOUD_PROJECT``, else the credentials' project), ``location=``
    (else ``GOOGLE_CLOUD_LOCATION``, else ``"global"``), ``credentials=`` (a google-auth
    credentials object; else ``google.auth.default()``), ``publisher=`` (``"google"`` or
    ``"anthropic"``; else chosen by the model name: ``claude-*`` is Anthropic's). An API key
    (``api_key=``, ``allm.keys.put("vertex", ...)``, or ``GOOGLE_API_KEY`` when no project is
    set) selects express mode instead. See ``docs/design/providers-vertex.md``.
    """

    name: ClassVar[str] = "vertex"
    key_provider: ClassVar[str] = "vertex"
    default_base_url: ClassVar[str] = EXPRESS_BASE_URL
    extra_retry_statuses: ClassVar[tuple[int, ...]] = (529,)  # Claude's "overloaded"
    # Gemini's tools on Vertex: no file search stores (Vertex grounds with its own retrieval).
    provider_tool_kinds: ClassVar[tuple[str, ...]] = ("web_search", "code_execution", "url_context")

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        publisher: str | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stream_timeout: float | None = None,
        http_client: Any = None,
        async_http_client: Any = None,
        max_connections: int | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            stream_timeout=stream_timeout,
            http_client=http_client,
            async_http_client=async_http_client,
            max_connections=max_connections,
        )
        self.project = project
        self.location = location
        self.credentials = credentials
        self.publisher = publisher
        if credentials is not None:
            remember_secrets(credentials)
        self._defaults = DefaultCredentials()
        self._claude = ClaudeOnVertex()

    # -- settings ---------------------------------------------------------------------------------

    def option(self, call: Call, name: str) -> Any:
        """A Vertex option: an engine param, else the adapter option / constructor / settings."""
        value = call.params.get(name)
        return value if value is not None else self.setting(call, name)

    def _own(self, call: Call) -> Call:
        """The call with Vertex's own options moved from the body parameters (where call
        keywords land) to the adapter options, above the engine's."""
        own = {k: v for k, v in call.params.items() if k in _OWN_OPTIONS}
        if not own:
            return call
        params = {k: v for k, v in call.params.items() if k not in _OWN_OPTIONS}
        return replace(call, params=params, adapter_opts={**call.adapter_opts, **own})

    def publisher_for(self, request: Request, call: Call) -> str:
        """``"anthropic"`` for Claude models (or ``publisher="anthropic"``), else ``"google"``."""
        explicit = self.option(call, "publisher")
        if explicit is None:
            return "anthropic" if is_claude(request.model) else "google"
        if explicit not in PUBLISHERS:
            raise ConfigurationError(
                "invalid_option",
                problems=[f"publisher: expected one of {list(PUBLISHERS)}, got {explicit!r}"],
            )
        return str(explicit)

    def location_of(self, call: Call) -> str:
        """``location=``, else ``GOOGLE_CLOUD_LOCATION``, else ``"global"``."""
        value = self.option(call, "location") or os.environ.get("GOOGLE_CLOUD_LOCATION")
        return str(value or DEFAULT_LOCATION)

    def default_base(self, call: Call) -> str:
        """The regional host (``{location}-aiplatform.googleapis.com``), or the global one."""
        return self._host_for(self.location_of(call))

    def configured_home(self, settings: Mapping[str, Any]) -> str:
        """Where configured headers may go: the configured ``base_url``, else the host of the
        configured (or constructor's, or environment's) location."""
        if settings.get("base_url"):
            return str(settings["base_url"]).rstrip("/")
        location = (
            self.location or settings.get("location") or os.environ.get("GOOGLE_CLOUD_LOCATION")
        )
        return self._host_for(str(location or DEFAULT_LOCATION))

    def _host_for(self, location: str) -> str:
        if location == "global":
            return EXPRESS_BASE_URL
        path_segment(location, provider=self.name)
        return f"https://{location}-aiplatform.googleapis.com/v1"

    def _express_key(self, call: Call) -> str | None:
        """The express mode key, if this call runs in express mode: a key given to allm itself
        (``api_key=``, ``allm.keys``, ``configure(keys=...)``) unless credentials are given; one
        from the environment only when no project is set either (a Gemini user's GOOGLE_API_KEY
        must not take over a project's credentials)."""
        if self.option(call, "credentials") is not None:
            return None
        found = keys.locate(self.key_provider, call.api_key)
        if found is None:
            return None
        if found[1] in ("env", "dotenv") and self._configured_project(call) is not None:
            return None
        return self.optional_api_key(call)

    def _configured_project(self, call: Call) -> str | None:
        value = self.option(call, "project") or os.environ.get("GOOGLE_CLOUD_PROJECT")
        return str(value) if value else None

    def _credentials(self, call: Call) -> tuple[Any, str | None]:
        given = self.option(call, "credentials")
        if given is not None:
            remember_secrets(given)
            project = getattr(given, "project_id", None) or getattr(given, "quota_project_id", None)
            return given, project if isinstance(project, str) else None
        return self._defaults.get(self.name)

    # -- pre-flight and the request ---------------------------------------------------------------

    def check(self, request: Request, call: Call) -> None:
        """Gemini's rules for Gemini models, Anthropic's for Claude models; a safe model name."""
        if self.publisher_for(request, call) == "anthropic":
            self._claude.check(request, call)
        else:
            super().check(request, call)
        path_segment(request.model, provider=self.name)

    def requires_structured_finalize(self, request: Request) -> bool:
        """As Anthropic's adapter for Claude models (structured output is a forced tool there)."""
        publisher = self.publisher or ("anthropic" if is_claude(request.model) else "google")
        return publisher == "anthropic" and self._claude.requires_structured_finalize(request)

    def _draft(self, request: Request, call: Call, *, stream: bool) -> _Draft:
        """The request without its access token; credentials and project resolved (no I/O but
        ``google.auth.default()``'s first look-up)."""
        publisher = self.publisher_for(request, call)
        headers: dict[str, str] = {}
        if publisher == "anthropic":
            body = self._claude.vertex_body(request, call, stream=stream)
            headers = self._claude.vertex_headers(request)
        else:
            body = self.build_body(request, call)
        model = path_segment(request.model, provider=self.name)
        method = _METHODS[(publisher, stream)]
        key = self._express_key(call)
        if key is not None:
            if publisher == "anthropic":
                raise ConfigurationError(
                    "invalid_option",
                    problems=[
                        "Claude models on Vertex need Google Cloud credentials (express mode "
                        "API keys serve Gemini models only)"
                    ],
                )
            root = str(self.setting(call, "base_url", EXPRESS_BASE_URL)).rstrip("/")
            url = f"{root}/publishers/{publisher}/models/{model}:{method}"
            return _Draft(self.json_request(call, url, body, {"x-goog-api-key": key}))
        credentials, found_project = self._credentials(call)
        project = self._configured_project(call) or found_project
        if project is None:
            raise ConfigurationError(
                "invalid_option",
                problems=[
                    "Vertex needs a Google Cloud project: pass project=, set "
                    "GOOGLE_CLOUD_PROJECT, or use credentials that name one"
                ],
            )
        project = path_segment(project, provider=self.name)
        location = path_segment(self.location_of(call), provider=self.name)
        url = (
            f"{self.base(call)}/projects/{project}/locations/{location}"
            f"/publishers/{publisher}/models/{model}:{method}"
        )
        return _Draft(self.json_request(call, url, body, headers), credentials)

    def build_request(self, request: Request, call: Call, *, stream: bool) -> HttpRequest:
        """The whole request, the access token fetched now (blocking; for ``prepare_request``)."""
        call = self._own(call)
        draft = self._draft(request, call, stream=stream)
        if draft.credentials is None:
            return draft.http_request
        token = fresh_token(draft.credentials, self.name, call.request_id)
        if isinstance(token, AdapterError):
            raise token
        return _with_token(draft, token)

    def url(self, request: Request, call: Call, *, stream: bool) -> str:
        """The endpoint URL this call would use."""
        return self._draft(request, self._own(call), stream=stream).http_request.url

    # -- the plans --------------------------------------------------------------------------------

    def _prepare(self, request: Request, call: Call, *, stream: bool) -> tuple[Call, _Draft]:
        """Pre-flight, shared by both plans: checks, credentials, project, the request drafted."""
        call = self._own(call)
        self.check(request, call)
        self.pool_size(call)
        return call, self._draft(request, call, stream=stream)

    def _authorize(
        self, call: Call, draft: _Draft
    ) -> Generator[Effect, Any, HttpRequest | AdapterError]:
        """The drafted request with its access token (an effect), or the refresh's error."""
        if draft.credentials is None:
            return draft.http_request
        token = yield AccessToken(draft.credentials, self.name, call.request_id)
        return token if isinstance(token, AdapterError) else _with_token(draft, token)

    def stream(self, request: Request, call: Call) -> Iterator[Event | Effect]:
        """Check, resolve credentials and build the request now; the token comes in the plan."""
        call, draft = self._prepare(request, call, stream=True)
        return self._authorized_stream(call, draft, self.stream_decoder(request, call))

    def _authorized_stream(
        self, call: Call, draft: _Draft, decoder: StreamDecoder
    ) -> Generator[Any, Any, None]:
        http_request = yield from self._authorize(call, draft)
        if isinstance(http_request, AdapterError):
            yield MessageStarted(Message(Role.ASSISTANT, ""))
            yield ErrorEvent(http_request)
            return
        yield from self._stream_plan(call, http_request, decoder)

    def generate(self, request: Request, call: Call) -> Generator[Effect, Any, Response]:
        """Check, resolve credentials and build the request now; the token comes in the plan."""
        call, draft = self._prepare(request, call, stream=False)
        return self._authorized_generate(request, call, draft)

    def _authorized_generate(
        self, request: Request, call: Call, draft: _Draft
    ) -> Generator[Effect, Any, Response]:
        http_request = yield from self._authorize(call, draft)
        if isinstance(http_request, AdapterError):
            raise http_request
        return (yield from self._generate_plan(request, call, http_request))

    # -- answers ----------------------------------------------------------------------------------

    def stream_decoder(self, request: Request, call: Call) -> Any:
        """Anthropic's SSE decoder for Claude models, Gemini's otherwise."""
        if self.publisher_for(request, call) == "anthropic":
            return self._claude.stream_decoder(request, call)
        return super().stream_decoder(request, call)

    def parse_response(self, result: HttpResult, request: Request, call: Call) -> Response:
        """A whole body: an Anthropic ``message`` for Claude models, else a Gemini response."""
        if self.publisher_for(request, call) == "anthropic":
            return self._claude.parse_response(result, request, call)
        return super().parse_response(result, request, call)

    def classify_error(self, result: HttpResult, call: Call) -> AdapterError:
        """Anthropic's error envelope (``{"type": "error", ...}``) from a Claude model, else the
        ``google.rpc.Status`` Vertex's front end answers with (for both publishers)."""
        data = _unwrap(json_or_none(result.body))
        if isinstance(data, dict) and data.get("type") == "error":
            return self._claude.classify_error(result, call)
        return super().classify_error(result, call)
