"""No key text anywhere: error messages, causes, ``to_json`` of responses and sessions, pickles,
DEBUG logs of the allm / httpx / httpcore loggers, telemetry events and OpenTelemetry spans.

Two ways a key could escape, on every provider: a key that cannot be a header value (a newline
read from a file, a control or non-ASCII character), refused before any I/O and named only by its
source; and a valid key that comes back inside text allm keeps (a provider's error body echoing
it, a transport error printing it), scrubbed wherever it lands.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import allm
from allm import keys, sessions, telemetry
from allm.errors import ConfigurationError
from allm.providers import (
    Anthropic,
    Bedrock,
    Gemini,
    OpenAI,
    OpenAICompatible,
    OpenAIImages,
    Vertex,
)
from allm.telemetry import otel
from allm.testing.loopback import LoopbackServer

CANARY = "LEAKCANARY"
GOOD_KEY = f"sk-{CANARY}-0123456789abcdef"
NEWLINE_KEY = GOOD_KEY + "\n"


@dataclass(frozen=True)
class Provider:
    name: str  # the key's provider
    env: str
    model: str
    path: str
    adapter: Callable[[str], Any]
    opts: tuple[tuple[str, Any], ...] = ()


PROVIDERS = {
    "openai": Provider(
        "openai", "OPENAI_API_KEY", "gpt-4o", "/v1/chat/completions",
        lambda url: OpenAI(base_url=url + "/v1"),
    ),
    "openai_responses": Provider(
        "openai", "OPENAI_API_KEY", "gpt-4o", "/v1/responses",
        lambda url: OpenAI(base_url=url + "/v1"), (("endpoint", "responses"),),
    ),
    "openai_compatible": Provider(
        "openai_compatible", "OPENAI_COMPATIBLE_API_KEY", "llama3", "/v1/chat/completions",
        lambda url: OpenAICompatible(base_url=url + "/v1"),
    ),
    "anthropic": Provider(
        "anthropic", "ANTHROPIC_API_KEY", "claude-sonnet-4-5", "/v1/messages",
        lambda url: Anthropic(base_url=url + "/v1"),
    ),
    "gemini": Provider(
        "gemini", "GEMINI_API_KEY", "gemini-2.0-flash",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        lambda url: Gemini(base_url=url + "/v1beta"),
    ),
    "bedrock": Provider(
        "bedrock", "AWS_BEARER_TOKEN_BEDROCK", "amazon.nova-lite-v1:0",
        "/model/amazon.nova-lite-v1%3A0/converse-stream",
        lambda url: Bedrock(base_url=url, region="us-east-1"),
    ),
    "vertex": Provider(  # express mode: the key of a Vertex call
        "vertex", "GOOGLE_API_KEY", "gemini-2.0-flash",
        "/v1/publishers/google/models/gemini-2.0-flash:streamGenerateContent",
        lambda url: Vertex(base_url=url + "/v1"),
    ),
}  # fmt: skip


class Witness:
    """Everything a key could leak into during one test."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.events: list[Any] = []
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def texts(self) -> Iterator[str]:
        for record in self.caplog.records:
            yield record.getMessage()
            yield repr(record.args)
            if record.exc_info and record.exc_info[1] is not None:
                yield repr(record.exc_info[1])
        yield repr(self.events)
        for span in self.exporter.get_finished_spans():
            yield repr(dict(span.attributes or {}))
            yield repr(span.status.description)
            for event in span.events:
                yield repr(dict(event.attributes or {}))

    def assert_clean(self, *values: Any) -> None:
        for value in values:
            assert CANARY not in _everything(value)
        for text in self.texts():
            assert CANARY not in text


def _everything(value: Any) -> str:
    """Every text form of ``value``: str, repr, JSON (when it has one), pickle bytes, and its
    cause chain."""
    parts = [str(value), repr(value)]
    try:
        parts.append(allm.to_json(value))
    except TypeError:
        pass
    parts.append(pickle.dumps(value).decode("latin-1"))
    if isinstance(value, BaseException):
        parts += [
            repr(getattr(value, "cause", None)),
            repr(value.__cause__),
            repr(value.__context__),
        ]
    return "\n".join(parts)


@pytest.fixture
def witness(caplog: pytest.LogCaptureFixture) -> Iterator[Witness]:
    seen = Witness(caplog)
    handler_id = telemetry.attach(lambda *event: seen.events.append(event))
    otel.instrument(tracer_provider=seen.tracer_provider)
    with (
        caplog.at_level(logging.DEBUG, logger="allm"),
        caplog.at_level(logging.DEBUG, logger="httpx"),
        caplog.at_level(logging.DEBUG, logger="httpcore"),
    ):
        yield seen
    otel.uninstrument()
    telemetry.detach(handler_id)
    seen.tracer_provider.shutdown()


@pytest.fixture(scope="module")
def running_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def server(running_server: LoopbackServer) -> LoopbackServer:
    """One server for the module (stopping one takes half a second), fresh for each test."""
    running_server.requests.clear()
    running_server._answers.clear()
    return running_server


_ADAPTERS: list[Any] = []


@pytest.fixture(autouse=True)
def close_pools() -> Iterator[None]:
    """Each test's adapters close their pools when it ends (no socket left to the collector)."""
    yield
    while _ADAPTERS:
        _ADAPTERS.pop().close()


def engine_for(provider: Provider, server: LoopbackServer) -> allm.Engine:
    adapter = provider.adapter(server.url)
    _ADAPTERS.append(adapter)
    return allm.Engine(
        adapter=adapter,
        model=provider.model,
        adapter_opts=dict(provider.opts),
        retry=False,
    )


def image_engine(server: LoopbackServer) -> allm.Engine:
    adapter = OpenAIImages(base_url=server.url)
    _ADAPTERS.append(adapter)
    return allm.Engine(image_adapter=adapter)


# -- a key that cannot be a header value: refused before any I/O, named by its source ---------

SOURCES = ("api_key", "put", "scoped", "configure", "env", "dotenv")
WHERE = {
    "api_key": "the api_key= call keyword",
    "put": "allm.keys.put(",
    "scoped": "allm.keys.scoped(",
    "configure": "allm.configure(keys=",
    "env": "environment variable ",
    "dotenv": "in the .env file ",
}


def install_key(source: str, provider: Provider, key: str, monkeypatch, tmp_path) -> dict:
    """Put ``key`` where ``source`` says; returns the call keywords needed."""
    if source == "api_key":
        return {"api_key": key}
    if source == "put":
        keys.put(provider.name, key)
    elif source == "configure":
        allm.configure(keys={provider.name: key})
    elif source == "env":
        monkeypatch.setenv(provider.env, key)
    elif source == "dotenv":
        path = tmp_path / ".env"
        path.write_text(f'{provider.env}="{key}"\n')
        allm.configure(load_dotenv=True, dotenv_path=str(path))
        # the minimal reader strips whitespace: a line break must come from inside the quotes
    return {}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("provider_name", sorted(PROVIDERS))
def test_a_key_with_a_newline_is_refused_before_any_io_naming_its_source(
    provider_name, source, server, witness, monkeypatch, tmp_path, driver
):
    provider = PROVIDERS[provider_name]
    # A .env value keeps no trailing newline, so there the break sits inside the key.
    key = GOOD_KEY[:10] + "\r\n" + GOOD_KEY[10:] if source == "dotenv" else NEWLINE_KEY
    if source == "dotenv":
        key = GOOD_KEY + "\x07"  # a control character survives the .env reader
    opts = install_key(source, provider, key, monkeypatch, tmp_path)
    engine = engine_for(provider, server)

    def attempt() -> Any:
        if source == "scoped":
            with keys.scoped({provider.name: key}):
                return driver.generate(engine, [allm.user("hi")], **opts)
        return driver.generate(engine, [allm.user("hi")], **opts)

    with pytest.raises(ConfigurationError) as info:
        attempt()

    error = info.value
    assert error.reason == "invalid_key"
    assert WHERE[source] in str(error)
    if source in ("env", "dotenv"):
        assert provider.env in str(error)
    assert server.requests == []
    witness.assert_clean(error)


BAD_KEYS = {
    "trailing newline": NEWLINE_KEY,
    "CRLF inside": GOOD_KEY[:8] + "\r\n" + GOOD_KEY[8:],
    "NUL inside": GOOD_KEY[:8] + "\x00" + GOOD_KEY[8:],
    "tab at the end": GOOD_KEY + "\t",
    "non-ASCII": GOOD_KEY + "é",
}


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
@pytest.mark.parametrize("provider_name", sorted(PROVIDERS))
def test_every_unsendable_key_is_refused_on_every_path(provider_name, kind, server, witness):
    provider = PROVIDERS[provider_name]
    engine = engine_for(provider, server)
    key = BAD_KEYS[kind]

    raised = []
    for run in (
        lambda: allm.generate(engine, [allm.user("hi")], api_key=key),
        lambda: allm.generate(engine, [allm.user("hi")], api_key=key, streaming=False),
        lambda: allm.stream_generate(engine, [allm.user("hi")], api_key=key),
        lambda: allm.chat(engine, [allm.user("hi")], api_key=key),
        lambda: sessions.start(engine, [allm.user("hi")], api_key=key),
    ):
        with pytest.raises(ConfigurationError) as info:
            run()
        raised.append(info.value)

    assert {error.reason for error in raised} == {"invalid_key"}
    assert server.requests == []
    witness.assert_clean(*raised)


def test_an_unsendable_image_key_is_refused_before_any_io(server, witness):
    engine = image_engine(server)

    with pytest.raises(ConfigurationError) as info:
        allm.generate_image(engine, "a cat", model="dall-e-3", api_key=NEWLINE_KEY)

    assert info.value.reason == "invalid_key"
    assert server.requests == []
    witness.assert_clean(info.value)


SURFACES = {
    "openai_embeddings": ("embedding_adapter", allm.embed, "openai"),
    "openai_compatible_embeddings": ("embedding_adapter", allm.embed, "openai_compatible"),
    "gemini_embeddings": ("embedding_adapter", allm.embed, "gemini"),
    "openai_moderation": ("moderation_adapter", allm.moderate, "openai"),
}


@pytest.mark.parametrize("source", ["api_key", "env"])
@pytest.mark.parametrize("name", sorted(SURFACES))
def test_the_other_surfaces_refuse_an_unsendable_key_too(
    name, source, server, witness, monkeypatch, tmp_path
):
    slot, run, key_provider = SURFACES[name]
    env = {"openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}.get(
        key_provider, "OPENAI_COMPATIBLE_API_KEY"
    )
    provider = Provider(key_provider, env, "", "", lambda url: None)
    opts = install_key(source, provider, NEWLINE_KEY, monkeypatch, tmp_path)
    engine = allm.Engine(**{slot: name}, adapter_opts={"base_url": server.url}, retry=False)

    if name == "openai_compatible_embeddings":
        opts["model"] = "nomic-embed-text"  # a compatible server names no default model
    with pytest.raises(ConfigurationError) as info:
        run(engine, "some text", **opts)

    assert info.value.reason == "invalid_key"
    assert WHERE[source] in str(info.value)
    assert server.requests == []
    witness.assert_clean(info.value)


@pytest.mark.parametrize("value", ["a\r\nInjected: yes", "a\nb", "tail\r", "nul\x00"])
@pytest.mark.parametrize("provider_name", sorted(PROVIDERS))
def test_header_values_with_cr_or_lf_are_refused_before_any_io(provider_name, value, server):
    provider = PROVIDERS[provider_name]
    engine = engine_for(provider, server)

    with pytest.raises(ConfigurationError) as info:
        allm.generate(engine, [allm.user("hi")], api_key=GOOD_KEY, headers={"x-trace": value})

    assert info.value.reason == "invalid_header"
    assert "'x-trace'" in str(info.value)
    assert value not in str(info.value)
    assert server.requests == []


def test_a_secret_header_value_is_never_shown(server, witness):
    engine = engine_for(PROVIDERS["openai"], server)
    secret = f"tok-{CANARY}-99999\n"

    with pytest.raises(ConfigurationError) as info:
        allm.generate(engine, [allm.user("hi")], api_key=GOOD_KEY, headers={"x-auth-token": secret})

    assert "'x-auth-token'" in str(info.value)
    witness.assert_clean(info.value)


# -- a valid key that comes back in text allm keeps: scrubbed ----------------------------------

ECHO_BODIES = {
    "openai": b'{"error": {"message": "Incorrect API key provided: %s", "type": "invalid_request_error", "code": "invalid_api_key"}}',
    "anthropic": b'{"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key %s"}}',
    "gemini": b'{"error": {"code": 401, "message": "API key not valid: %s", "status": "UNAUTHENTICATED"}}',
    "bedrock": b'{"message": "Bearer token %s is invalid"}',
    "vertex": b'{"error": {"code": 401, "message": "Invalid credentials: %s", "status": "UNAUTHENTICATED"}}',
}  # fmt: skip


@pytest.mark.parametrize("provider_name", sorted(PROVIDERS))
def test_a_key_echoed_by_the_provider_is_scrubbed_everywhere(provider_name, server, witness):
    provider = PROVIDERS[provider_name]
    family = provider_name.split("_")[0]
    body = ECHO_BODIES.get(family, ECHO_BODIES["openai"]) % GOOD_KEY.encode()
    server.add("POST", provider.path, status=401, body=body,
               headers={"content-type": "application/json", "x-echo": GOOD_KEY})  # fmt: skip
    non_stream_path = provider.path.replace(":streamGenerateContent", ":generateContent")
    non_stream_path = non_stream_path.replace("/converse-stream", "/converse")
    server.add("POST", non_stream_path, status=401, body=body,
               headers={"content-type": "application/json"})  # fmt: skip
    engine = engine_for(provider, server)

    response = allm.generate(engine, [allm.user("hi")], api_key=GOOD_KEY)
    session, result = sessions.start(engine, [allm.user("hi")], api_key=GOOD_KEY)
    whole = allm.generate(engine, [allm.user("hi")], api_key=GOOD_KEY, streaming=False)

    assert response.finish_reason == "error"
    assert response.error.reason == "authentication_failed"
    assert "[redacted]" in response.error.message
    assert session.status == "error"
    assert whole.error.reason == "authentication_failed"
    assert server.requests  # the key did go to its own provider, once per call
    witness.assert_clean(response, response.error, session, result, whole, whole.error)


def test_a_transport_error_printing_the_key_is_scrubbed(witness):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy said no to {request.headers['authorization']}")

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    engine = allm.Engine(
        adapter=OpenAI(base_url="http://127.0.0.1:9/v1"),
        model="gpt-4o",
        adapter_opts={"http_client": client},
        retry=False,
    )

    response = allm.generate(engine, [allm.user("hi")], api_key=GOOD_KEY)

    assert response.error.reason == "network_error"
    assert "proxy said no to [redacted]" in response.error.message
    witness.assert_clean(response, response.error)


def test_a_key_echoed_by_the_image_provider_is_scrubbed(server, witness):
    body = ECHO_BODIES["openai"] % GOOD_KEY.encode()
    server.add("POST", "/images/generations", status=401, body=body,
               headers={"content-type": "application/json"})  # fmt: skip
    engine = image_engine(server)

    with pytest.raises(allm.errors.ImageAdapterError) as info:
        allm.generate_image(engine, "a cat", model="dall-e-3", api_key=GOOD_KEY, retry=False)

    assert server.requests
    witness.assert_clean(info.value)


# -- Vertex: OAuth access tokens and the secrets of google-auth credentials ----------------------

VERTEX_PATH = (
    "/v1/projects/leak-project/locations/global/publishers/google/models/"
    "gemini-2.0-flash:streamGenerateContent"
)


def _vertex_credentials(token_uri: str, *, expired: bool) -> Any:
    import datetime

    from google.oauth2.credentials import Credentials

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return Credentials(
        token=f"ya29.{CANARY}-access",
        expiry=now + datetime.timedelta(hours=-1 if expired else 1),
        refresh_token=f"1//{CANARY}-refresh",
        client_id="client-id",
        client_secret=f"{CANARY}-client-secret",
        token_uri=token_uri,
    )


def test_a_vertex_access_token_echoed_by_the_provider_is_scrubbed_everywhere(server, witness):
    token = f"ya29.{CANARY}-access"
    body = ECHO_BODIES["vertex"] % token.encode()
    server.add("POST", VERTEX_PATH, status=401, body=body,
               headers={"content-type": "application/json", "x-echo": token})  # fmt: skip
    server.add("POST", VERTEX_PATH.replace(":streamGenerateContent", ":generateContent"),
               status=401, body=body, headers={"content-type": "application/json"})  # fmt: skip
    adapter = Vertex(base_url=server.url + "/v1", project="leak-project",
                     credentials=_vertex_credentials(server.url + "/token", expired=False))  # fmt: skip
    _ADAPTERS.append(adapter)
    engine = allm.Engine(adapter=adapter, model="gemini-2.0-flash", retry=False)

    response = allm.generate(engine, [allm.user("hi")])
    session, result = sessions.start(engine, [allm.user("hi")])
    whole = allm.generate(engine, [allm.user("hi")], streaming=False)

    assert response.error.reason == "authentication_failed"
    assert "[redacted]" in response.error.message
    assert whole.error.reason == "authentication_failed"
    assert server.requests[0].headers["authorization"] == f"Bearer {token}"
    witness.assert_clean(response, response.error, session, result, whole, whole.error)


def test_a_refresh_error_echoing_the_refresh_token_is_scrubbed(server, witness):
    server.add("POST", "/token", status=400, headers={"content-type": "application/json"},
               body=b'{"error": "invalid_grant", "error_description": "bad token 1//'
               + CANARY.encode() + b'-refresh"}')  # fmt: skip
    adapter = Vertex(base_url=server.url + "/v1", project="leak-project",
                     credentials=_vertex_credentials(server.url + "/token", expired=True))  # fmt: skip
    _ADAPTERS.append(adapter)
    engine = allm.Engine(adapter=adapter, model="gemini-2.0-flash", retry=False)

    response = allm.generate(engine, [allm.user("hi")])

    assert response.error.reason == "authentication_failed"
    assert "invalid_grant" in response.error.message
    assert [r.path for r in server.requests] == ["/token"]  # nothing went to Vertex
    witness.assert_clean(response, response.error)
