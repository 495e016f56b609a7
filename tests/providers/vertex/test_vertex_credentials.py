"""Credentials and tokens: real google-auth credentials objects, a refresh against a token
endpoint on 127.0.0.1, application default credentials from a file, express mode keys, the
project and location settings, and where tokens go (only to Vertex, never anywhere else)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from google.oauth2.credentials import Credentials
from tests.providers.vertex.support import PROJECT, TOKEN, credentials
from tests.providers.wire import load

import allm
from allm.errors import ConfigurationError, EngineError, ValidationError
from allm.model_refs import split_model_ref
from allm.providers.vertex import Vertex
from allm.providers.vertex.auth import DefaultCredentials
from allm.testing.loopback import LoopbackServer

TEXT = load("vertex", "text_stream")
CLAUDE_TEXT = load("vertex-anthropic", "text_stream")
FRESH = "ya29.fresh-from-the-token-endpoint"
REFRESH_TOKEN = "1//refresh-token-secret"
CLIENT_SECRET = "client-secret-value"


class Recorder:
    """Mock transports for the Vertex API that serve a recorded body and keep every request."""

    def __init__(self, body: bytes = TEXT.body, status: int = 200) -> None:
        self.body, self.status = body, status
        self.seen: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        kind = "text/event-stream" if "stream" in str(request.url).lower() else "application/json"
        return httpx.Response(self.status, headers={"content-type": kind}, content=self.body)

    def opts(self) -> dict[str, Any]:
        async def answer(request: httpx.Request) -> httpx.Response:
            return self.answer(request)

        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self.answer)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        }


@pytest.fixture
def token_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/token",
            status=200,
            headers={"content-type": "application/json"},
            body=json.dumps(
                {"access_token": FRESH, "expires_in": 3599, "token_type": "Bearer"}
            ).encode(),
        )
        yield server


def expired(token_uri: str, kind: type[Credentials] = Credentials) -> Credentials:
    """Credentials of ``kind`` whose token expired, refreshable at ``token_uri``."""
    return credentials(
        "ya29.expired-token",
        hours=-1,
        refresh_token=REFRESH_TOKEN,
        client_id="client-id.apps.googleusercontent.com",
        client_secret=CLIENT_SECRET,
        token_uri=token_uri,
        kind=kind,
    )


def engine(creds: Any = None, recorder: Recorder | None = None, **opts: Any) -> allm.Engine:
    recorder = recorder or Recorder()
    adapter_opts = {**recorder.opts(), "project": PROJECT, **opts}
    if creds is not None:
        adapter_opts["credentials"] = creds
    return allm.Engine(
        adapter=Vertex(), model="gemini-2.5-flash", adapter_opts=adapter_opts, retry=False
    )


def test_these_tests_cannot_reach_a_google_host() -> None:
    from google.auth.transport.requests import Request

    with pytest.raises(AssertionError, match="tried to reach"):
        Request()("https://oauth2.googleapis.com/token", method="POST")


# -- tokens: cached while valid, refreshed when expired --------------------------------------------


def test_a_valid_token_is_used_as_it_is_and_never_refreshed() -> None:
    creds = credentials()
    recorder = Recorder()
    for _ in range(2):
        assert allm.generate(engine(creds, recorder), [allm.user("hi")]).finish_reason == "stop"
    assert [r.headers["authorization"] for r in recorder.seen] == [f"Bearer {TOKEN}"] * 2
    assert creds.token == TOKEN


def test_an_expired_token_is_refreshed_once_at_the_token_endpoint_then_cached(
    token_server: LoopbackServer,
) -> None:
    creds = expired(token_server.url + "/token")
    recorder = Recorder()
    for _ in range(3):
        assert allm.generate(engine(creds, recorder), [allm.user("hi")]).text
    assert [r.headers["authorization"] for r in recorder.seen] == [f"Bearer {FRESH}"] * 3
    assert len(token_server.requests) == 1
    form = token_server.requests[0].body.decode()
    assert "grant_type=refresh_token" in form
    assert "expired-token" not in form  # the old access token never goes to the token endpoint
    for request in recorder.seen:  # the refresh token and client secret never go to Vertex
        sent = str(request.url) + repr(request.headers) + request.content.decode()
        assert REFRESH_TOKEN not in sent and CLIENT_SECRET not in sent


def test_the_async_api_refreshes_on_a_worker_thread_not_the_event_loop(
    token_server: LoopbackServer,
) -> None:
    threads: list[int] = []

    class Watched(Credentials):  # type: ignore[misc]
        def refresh(self, request: Any) -> None:
            threads.append(threading.get_ident())
            super().refresh(request)

    watched = expired(token_server.url + "/token", Watched)
    recorder = Recorder()

    async def run() -> tuple[allm.Response, int]:
        response = await allm.agenerate(engine(watched, recorder), [allm.user("hi")])
        return response, threading.get_ident()

    response, loop_thread = anyio.run(run)
    assert response.finish_reason == "stop"
    assert len(threads) == 1 and threads[0] != loop_thread
    assert recorder.seen[0].headers["authorization"] == f"Bearer {FRESH}"


def test_a_refused_refresh_is_an_authentication_error_as_data_and_nothing_reaches_vertex() -> None:
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/token",
            status=400,
            headers={"content-type": "application/json"},
            body=b'{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}',
        )
        creds = expired(server.url + "/token")
        recorder = Recorder()
        response = allm.generate(engine(creds, recorder), [allm.user("hi")])
        whole = allm.generate(engine(creds, recorder), [allm.user("hi")], streaming=False)
    assert response.finish_reason == "error"
    assert response.error.reason == "authentication_failed"
    assert response.error.metadata["stage"] == "token_refresh"
    assert "invalid_grant" in response.error.message
    assert REFRESH_TOKEN not in response.error.message
    assert whole.error.reason == "authentication_failed"
    assert recorder.seen == []


def test_an_unreachable_token_endpoint_is_a_network_error() -> None:
    with LoopbackServer() as server:
        url = server.url + "/token"
    creds = expired(url)  # the server is gone: nothing listens on that port now
    response = allm.generate(engine(creds), [allm.user("hi")])
    assert response.error.reason == "network_error"
    assert response.error.provider == "vertex"


def test_credentials_without_any_token_are_an_authentication_error() -> None:
    class Empty:
        token = None
        valid = False

        def refresh(self, request: Any) -> None:
            return None

    response = allm.generate(engine(Empty()), [allm.user("hi")])
    assert response.error.reason == "authentication_failed"


def test_prepare_request_carries_the_token_and_a_refused_refresh_raises() -> None:
    adapter = Vertex(project=PROJECT, credentials=credentials())
    prepared = adapter.prepare_request(
        allm.request([allm.user("hi")], model="gemini-2.5-flash"), _call(), stream=True
    )
    assert prepared.headers["authorization"] == f"Bearer {TOKEN}"
    assert str(prepared.url).startswith("https://aiplatform.googleapis.com/v1/projects/")

    class Refusing:
        token = None
        valid = False

        def refresh(self, request: Any) -> None:
            from google.auth.exceptions import RefreshError

            raise RefreshError("invalid_grant")

    with pytest.raises(allm.AdapterError) as info:
        Vertex(project=PROJECT, credentials=Refusing()).prepare_request(
            allm.request([allm.user("hi")], model="gemini-2.5-flash"), _call()
        )
    assert info.value.reason == "authentication_failed"


def _call(**fields: Any) -> Any:
    from allm.adapters import Call

    return Call(request_id="req-1", engine=allm.Engine(), **fields)


# -- application default credentials --------------------------------------------------------------


def test_application_default_credentials_are_loaded_once_and_refreshed(
    token_server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service account key file named by GOOGLE_APPLICATION_CREDENTIALS, whose token_uri is
    the loopback token endpoint (google-auth signs a JWT and exchanges it there)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "project-of-the-key",
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": "allm-test@project-of-the-key.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": token_server.url + "/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    recorder = Recorder()
    eng = allm.Engine(adapter=Vertex(), model="gemini-2.5-flash", adapter_opts=recorder.opts())
    for _ in range(2):
        assert allm.generate(eng, [allm.user("hi")]).finish_reason == "stop"
    assert len(token_server.requests) == 1
    assert b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in (
        token_server.requests[0].body
    )
    assert "/projects/project-of-the-key/locations/global/" in str(recorder.seen[0].url)
    assert [r.headers["authorization"] for r in recorder.seen] == [f"Bearer {FRESH}"] * 2
    assert pem not in repr([(r.headers, r.content) for r in recorder.seen])


def test_no_credentials_anywhere_is_a_missing_key_error_before_any_io() -> None:
    recorder = Recorder()
    eng = allm.Engine(adapter=Vertex(), model="gemini-2.5-flash", adapter_opts=recorder.opts())
    with pytest.raises(EngineError) as info:
        allm.stream_generate(eng, [allm.user("hi")])
    assert info.value.reason == "missing_key"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in info.value.message
    assert recorder.seen == []


def test_a_missing_google_auth_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(ImportError, match=r"allm-py\[vertex\]"):
        DefaultCredentials().get("vertex")


def test_import_allm_and_the_vertex_package_do_not_import_google_auth() -> None:
    code = (
        "import sys, allm, allm.providers.vertex; from allm.providers import Vertex; "
        "assert 'google.auth' not in sys.modules and 'google' not in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith('google'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- project, location, publisher -----------------------------------------------------------------


def test_project_comes_from_the_option_then_the_environment_then_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    with_project = credentials(quota_project_id="quota-project")
    eng = allm.Engine(
        adapter=Vertex(credentials=with_project),
        model="gemini-2.5-flash",
        adapter_opts=recorder.opts(),
    )
    allm.generate(eng, [allm.user("hi")])
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    allm.generate(eng, [allm.user("hi")])
    allm.generate(
        eng,
        [allm.user("hi")],
        adapter_opts={"project": "call-project", "location": "europe-west4"},
    )
    urls = [str(r.url) for r in recorder.seen]
    assert "/projects/quota-project/locations/global/" in urls[0]
    assert "/projects/env-project/" in urls[1]
    assert urls[2].startswith(
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/call-project/locations/europe-west4/"
    )
    body = json.loads(recorder.seen[2].content)
    assert not {"project", "location"} & set(body) and "project" not in body.get(
        "generationConfig", {}
    )


def test_location_comes_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-northeast1")
    recorder = Recorder()
    allm.generate(engine(credentials(), recorder), [allm.user("hi")])
    assert str(recorder.seen[0].url).startswith(
        "https://asia-northeast1-aiplatform.googleapis.com/v1/"
    )


def test_no_project_is_a_configuration_error_before_any_io() -> None:
    recorder = Recorder()
    eng = allm.Engine(
        adapter=Vertex(credentials=credentials()),
        model="gemini-2.5-flash",
        adapter_opts=recorder.opts(),
    )
    with pytest.raises(ConfigurationError, match="GOOGLE_CLOUD_PROJECT"):
        allm.generate(eng, [allm.user("hi")])
    assert recorder.seen == []


@pytest.mark.parametrize(
    "opts",
    [{"project": "../other"}, {"location": "us-central1/../x"}, {"location": "bad host"}],
)
def test_unsafe_project_or_location_names_are_refused_before_any_io(opts: dict[str, Any]) -> None:
    recorder = Recorder()
    with pytest.raises(ValidationError):
        allm.generate(engine(credentials(), recorder, **opts), [allm.user("hi")])
    assert recorder.seen == []


def test_a_model_string_with_an_at_splits_at_the_first_colon_and_selects_claude() -> None:
    assert split_model_ref("vertex:claude-sonnet-4-5@20250929") == (
        "vertex",
        "claude-sonnet-4-5@20250929",
    )
    assert split_model_ref("gemini-2.5-flash@vertex") == ("vertex", "gemini-2.5-flash")
    recorder = Recorder(CLAUDE_TEXT.body)
    eng = allm.Engine(
        model="vertex:claude-sonnet-4-5@20250929",
        adapter_opts={**recorder.opts(), "credentials": credentials(), "project": PROJECT},
    )
    response = allm.generate(eng, [allm.user("hi")])
    assert response.text == CLAUDE_TEXT.expect["output_text"]
    assert str(recorder.seen[0].url).endswith(
        "/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    )


def test_an_explicit_publisher_overrides_the_model_name() -> None:
    recorder = Recorder(CLAUDE_TEXT.body)
    eng = engine(credentials(), recorder, publisher="anthropic")
    allm.generate(eng, [allm.user("hi")])
    assert "/publishers/anthropic/models/gemini-2.5-flash:streamRawPredict" in str(
        recorder.seen[0].url
    )
    with pytest.raises(ConfigurationError, match="publisher"):
        allm.generate(engine(credentials(), publisher="meta"), [allm.user("hi")])


def test_claude_structured_output_with_tools_asks_for_a_finalize_step() -> None:
    tool = allm.Tool("lookup", "Look up", {"type": "object", "properties": {}})
    fmt = allm.json_schema("answer", {"type": "object", "properties": {}})
    claude = allm.request(
        [allm.user("x")], model="claude-sonnet-4-5@20250929", tools=[tool], response_format=fmt
    )
    gemini = allm.request(
        [allm.user("x")], model="gemini-2.5-flash", tools=[tool], response_format=fmt
    )
    assert Vertex().requires_structured_finalize(claude)
    assert not Vertex().requires_structured_finalize(gemini)


# -- express mode ---------------------------------------------------------------------------------


def test_an_api_key_selects_express_mode_on_the_global_host() -> None:
    recorder = Recorder()
    eng = allm.Engine(adapter=Vertex(), model="gemini-2.5-flash", adapter_opts=recorder.opts())
    allm.generate(eng, [allm.user("hi")], api_key="express-key")
    sent = recorder.seen[0]
    assert str(sent.url) == (
        "https://aiplatform.googleapis.com/v1/publishers/google/models/"
        "gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert sent.headers["x-goog-api-key"] == "express-key" and "authorization" not in sent.headers


def test_google_api_key_in_the_environment_is_express_mode_only_without_a_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "env-express-key")
    recorder = Recorder()
    plain = allm.Engine(adapter=Vertex(), model="gemini-2.5-flash", adapter_opts=recorder.opts())
    allm.generate(plain, [allm.user("hi")])
    allm.generate(engine(credentials(), recorder), [allm.user("hi")])  # credentials win
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setattr(Vertex, "_credentials", lambda self, call: (credentials(), None))
    allm.generate(plain, [allm.user("hi")])  # a project is set: its credentials, not the key
    assert recorder.seen[0].headers["x-goog-api-key"] == "env-express-key"
    assert recorder.seen[1].headers["authorization"] == f"Bearer {TOKEN}"
    assert recorder.seen[2].headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-goog-api-key" not in recorder.seen[2].headers


def test_claude_models_refuse_express_mode_before_any_io() -> None:
    recorder = Recorder()
    eng = allm.Engine(
        adapter=Vertex(), model="claude-sonnet-4-5@20250929", adapter_opts=recorder.opts()
    )
    with pytest.raises(ConfigurationError, match="express mode"):
        allm.generate(eng, [allm.user("hi")], api_key="express-key")
    assert recorder.seen == []


# -- where tokens and headers go ------------------------------------------------------------------


def test_configured_headers_reach_the_configured_host_but_not_an_engine_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    allm.configure(providers={"vertex": {"headers": {"x-goog-user-project": "billing-project"}}})
    try:
        allm.generate(engine(credentials(), recorder), [allm.user("hi")])
        allm.generate(
            engine(credentials(), recorder, base_url="https://gateway.example/v1"),
            [allm.user("hi")],
        )
    finally:
        allm.configure(providers={})
    assert recorder.seen[0].url.host == "us-central1-aiplatform.googleapis.com"
    assert recorder.seen[0].headers["x-goog-user-project"] == "billing-project"
    assert "x-goog-user-project" not in recorder.seen[1].headers
    assert str(recorder.seen[1].url).startswith("https://gateway.example/v1/projects/")


def test_a_call_switched_to_another_provider_never_carries_the_vertex_token() -> None:
    vertex, gemini = Recorder(), Recorder()
    allm.configure(providers={"gemini": gemini.opts()})
    try:
        eng = engine(credentials(), vertex)
        allm.generate(eng, [allm.user("hi")], model="gemini:gemini-2.5-flash", api_key="gemini-key")
    finally:
        allm.configure(providers={})
    assert vertex.seen == []
    sent = gemini.seen[0]
    assert sent.url.host == "generativelanguage.googleapis.com"
    assert "authorization" not in sent.headers and TOKEN not in repr(sent.headers)


def test_prepare_request_and_url_in_express_mode_carry_the_key_in_a_header() -> None:
    adapter = Vertex()
    request = allm.request([allm.user("hi")], model="gemini-2.5-flash")
    call = _call(api_key="express-key")
    prepared = adapter.prepare_request(request, call)
    assert prepared.headers["x-goog-api-key"] == "express-key"
    assert "authorization" not in prepared.headers
    assert (
        adapter.url(request, call, stream=False)
        == str(prepared.url)
        == (
            "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:generateContent"
        )
    )


def test_project_location_and_headers_can_be_configured_for_the_provider() -> None:
    recorder = Recorder()
    allm.configure(
        providers={
            "vertex": {
                "project": "configured-project",
                "location": "us-east5",
                "headers": {"x-goog-user-project": "billing-project"},
            }
        }
    )
    try:
        eng = allm.Engine(
            adapter=Vertex(credentials=credentials()),
            model="gemini-2.5-flash",
            adapter_opts=recorder.opts(),
        )
        allm.generate(eng, [allm.user("hi")])
        allm.generate(eng, [allm.user("hi")], adapter_opts={"location": "europe-west4"})
    finally:
        allm.configure(providers={})
    first, second = recorder.seen
    assert str(first.url).startswith(
        "https://us-east5-aiplatform.googleapis.com/v1/projects/configured-project/locations/us-east5/"
    )
    assert first.headers["x-goog-user-project"] == "billing-project"
    assert second.url.host == "europe-west4-aiplatform.googleapis.com"
    assert "x-goog-user-project" not in second.headers  # another host than the configured one
