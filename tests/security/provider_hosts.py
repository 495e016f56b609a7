"""Where each request went and which credentials it carried, for the provider-switch matrix.

``Network`` replaces the transport under every ``httpx`` client of the process (the adapters'
own pools included) with an ``httpx.MockTransport`` that records each request and answers it
with a recorded transcript of the wire its path speaks, so no byte leaves the process and a call
to any host completes, tool loops included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import allm

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wire"


@dataclass(frozen=True)
class Wire:
    """One adapter configuration: the provider, a model that selects this wire, its host."""

    name: str
    provider: str
    model: str
    default_host: str | None
    path: str  # how the request path ends on this wire

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def alias(self) -> str:
        return f"{self.model}@{self.provider}"

    @property
    def engine_host(self) -> str:
        """The host an engine configured for this wire points at (a third-party gateway)."""
        return f"{self.name.replace('_', '-')}.gateway.example"

    @property
    def engine_header(self) -> str:
        return f"gateway.{self.name}.token"


WIRES = (
    Wire("openai_chat", "openai", "gpt-4.1", "api.openai.com", "/chat/completions"),
    Wire("openai_responses", "openai", "gpt-5", "api.openai.com", "/responses"),
    Wire("anthropic", "anthropic", "claude-haiku-4-5", "api.anthropic.com", "/messages"),
    Wire("gemini", "gemini", "gemini-2.5-flash", "generativelanguage.googleapis.com", "Content"),
    Wire("openai_compatible", "openai_compatible", "llama3", None, "/chat/completions"),
)
PAIRS = [pytest.param(x, y, id=f"{x.name}->{y.name}") for x in WIRES for y in WIRES]

KEYS = {
    "openai": ("OPENAI_API_KEY", "sk-openai-key-0001"),
    "anthropic": ("ANTHROPIC_API_KEY", "sk-ant-key-0002"),
    "gemini": ("GEMINI_API_KEY", "AIza-gemini-key-0003"),
    "openai_compatible": ("OPENAI_COMPATIBLE_API_KEY", "sk-compatible-key-0004"),
}
# The gateway's base path keeps each wire's own path layout (Gemini's /v1beta, say).
_BASE_PATHS = {"gemini": "/v1beta"}


def set_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every provider's key in its environment variable."""
    for variable, key in KEYS.values():
        monkeypatch.setenv(variable, key)


def configured_host(provider: str) -> str:
    return f"{provider.replace('_', '-')}.configured.example"


def configured_header(provider: str) -> str:
    return f"configured.{provider}.token"


def base_url(host: str, provider: str) -> str:
    return f"https://{host}{_BASE_PATHS.get(provider, '/v1')}"


def engine_opts(wire: Wire) -> dict[str, object]:
    """The engine's options for ``wire``: its gateway and a header meant for that gateway."""
    return {
        "base_url": base_url(wire.engine_host, wire.provider),
        "headers": {"x-gateway-token": wire.engine_header},
    }


def engine_for(wire: Wire, form: str, **fields: object) -> allm.Engine:
    """An engine configured for ``wire``: ``named`` (adapter name), ``selected`` (its model
    picks the adapter) or ``instance`` (an adapter object built with the gateway settings)."""
    if form == "named":
        return allm.Engine(
            adapter=wire.provider, model=wire.model, adapter_opts=engine_opts(wire), **fields
        )
    if form == "selected":
        return allm.Engine(model=wire.ref, adapter_opts=engine_opts(wire), **fields)
    from allm.registry import resolve_adapter

    adapter = type(resolve_adapter(wire.provider))(**engine_opts(wire))
    return allm.Engine(adapter=adapter, model=wire.model, **fields)


def configure_every_provider() -> None:
    """``allm.configure(providers=...)`` with a host and a header of its own for each provider."""
    allm.configure(
        providers={
            provider: {
                "base_url": base_url(configured_host(provider), provider),
                "headers": {"x-configured-token": configured_header(provider)},
            }
            for provider in KEYS
        }
    )


@dataclass(frozen=True)
class Sent:
    """One request as it reached the transport."""

    host: str
    path: str
    url: str
    headers: Mapping[str, str]

    def carries(self, secret: str) -> bool:
        """Whether ``secret`` rode in any header (Authorization, x-api-key, x-goog-api-key, ...)
        or anywhere in the URL (a ``key=`` query)."""
        return secret in self.url or any(secret in value for value in self.headers.values())


def _answer(name: str, stream: bool, tool: bool) -> tuple[int, dict[str, str], bytes]:
    if name == "openai-images":
        case = "generate_b64_gpt_image"
    elif tool:
        case = "tool_use_stream_fragmented" if name == "anthropic" else "tool_call_stream"
        if name in ("openai-chat", "openai-responses"):
            case = "tool_call_stream_fragmented"
    else:
        case = "text_stream" if stream else "text_nonstream"
    expect = json.loads((FIXTURES / name / f"{case}.expect.json").read_text("utf-8"))
    body = (FIXTURES / name / f"{case}.response").read_bytes()
    return int(expect["http"]["status"]), dict(expect["http"]["headers"]), body


def _surface_case(path: str) -> str | None:
    """The recorded two-input answer of an embeddings or moderation path, if it is one."""
    if path.endswith("/embeddings"):
        return "embeddings/openai/success.json"
    if path.endswith(":batchEmbedContents"):
        return "embeddings/gemini/success.json"
    if path.endswith("/moderations"):
        return "moderation/openai/success.json"
    return None


def _wire_of(request: httpx.Request) -> tuple[str, bool]:
    path = request.url.path
    if path.endswith("/api/chat"):  # Ollama's native NDJSON wire
        return "ollama", bool(json.loads(request.content or b"{}").get("stream"))
    if "/images/" in path:
        return "openai-images", False
    if path.endswith(":streamGenerateContent"):
        return "gemini", True
    if path.endswith(":generateContent"):
        return "gemini", False
    body = json.loads(request.content or b"{}")
    stream = bool(body.get("stream"))
    if path.endswith("/responses"):
        return "openai-responses", stream
    if path.endswith("/messages"):
        return "anthropic", stream
    return "openai-chat", stream


class Network:
    """Every request of the test, recorded and answered offline."""

    def __init__(self, *, tool_first: bool = False) -> None:
        self.sent: list[Sent] = []
        self.tool_first = tool_first
        self._mock = httpx.MockTransport(self._handle)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Network:
        mock = self._mock

        def handle(transport: object, request: httpx.Request) -> httpx.Response:
            return mock.handle_request(request)

        async def handle_async(transport: object, request: httpx.Request) -> httpx.Response:
            return await mock.handle_async_request(request)

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async)
        return self

    def _handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        surface = _surface_case(request.url.path)
        if surface is not None:
            self.sent.append(Sent(host, request.url.path, str(request.url), dict(request.headers)))
            exchange = json.loads((FIXTURES / surface).read_text("utf-8"))["exchanges"][0]
            answer = exchange["response"]
            return httpx.Response(
                answer["status"], headers=answer["headers"], content=answer["body"].encode()
            )
        tool = self.tool_first and not any(sent.host == host for sent in self.sent)
        self.sent.append(Sent(host, request.url.path, str(request.url), dict(request.headers)))
        name, stream = _wire_of(request)
        status, headers, body = _answer(name, stream, tool)
        return httpx.Response(status, headers=headers, content=body)

    @property
    def hosts(self) -> list[str]:
        return [sent.host for sent in self.sent]


def assert_keys_stay_home(sent: Iterable[Sent], homes: Mapping[str, set[str | None]]) -> None:
    """No request carries a provider's key to a host that is not one of that provider's own."""
    for request in sent:
        for provider, (_, key) in KEYS.items():
            if request.carries(key):
                assert request.host in homes[provider], (provider, request.host)


def assert_headers_stay_home(sent: Iterable[Sent], header: str, host: str) -> None:
    """A header value meant for ``host`` reaches no other host."""
    for request in sent:
        if request.carries(header):
            assert request.host == host, (header, request.host)
