"""Azure OpenAI pieces: where a call goes (v1, dated, gateway, environment), how it is
authenticated (api-key, an Entra token provider called per call and never shown), its inner error
codes, and the checks that fail before any I/O."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

import allm
from allm.adapters import Call
from allm.errors import ConfigurationError, ValidationError
from allm.providers.azure import AzureOpenAI, azure_url

TOKEN = "entra-token-9f8e7d6c5b4a"


def call(**opts: Any) -> Call:
    return Call(request_id="r", engine=allm.Engine(), adapter_opts=opts, api_key="azure-key-1")


def built(adapter: AzureOpenAI, model: str = "prod", **opts: Any) -> Any:
    request = allm.request([allm.user("hi")], model=model)
    c = call(**opts)
    adapter.check(request, c)
    return adapter.build_request(request, c, stream=True)


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        ({"resource": "contoso"}, "https://contoso.openai.azure.com/openai/v1/chat/completions"),
        (
            {"resource": "contoso", "endpoint": "responses"},
            "https://contoso.openai.azure.com/openai/v1/responses",
        ),
        (
            {"resource": "contoso", "api_version": "2024-10-21"},
            "https://contoso.openai.azure.com/openai/deployments/prod/chat/completions"
            "?api-version=2024-10-21",
        ),
        (
            {"resource": "contoso", "api_version": "2025-04-01-preview", "endpoint": "responses"},
            "https://contoso.openai.azure.com/openai/responses?api-version=2025-04-01-preview",
        ),
        (
            {"base_url": "https://gw.example/openai/v1/"},
            "https://gw.example/openai/v1/chat/completions",
        ),
        (
            {"base_url": "https://gw.example/openai/v1", "api_version": "2024-10-21"},
            "https://gw.example/openai/deployments/prod/chat/completions?api-version=2024-10-21",
        ),
        ({"base_url": "https://gw.example"}, "https://gw.example/openai/v1/chat/completions"),
    ],
)
def test_where_a_call_goes(settings: dict[str, Any], url: str) -> None:
    assert built(AzureOpenAI(), **settings).url == url
    assert built(AzureOpenAI(**settings)).url == url  # constructor settings, the same


def test_the_endpoint_comes_from_the_environment_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://fromenv.openai.azure.com/")
    assert built(AzureOpenAI()).url == "https://fromenv.openai.azure.com/openai/v1/chat/completions"
    assert built(AzureOpenAI(resource="mine")).url.startswith("https://mine.openai.azure.com/")


def test_no_resource_is_a_configuration_error_before_any_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as info:
        allm.generate(allm.Engine(model="azure:prod", retry=False), [allm.user("hi")])
    assert "resource=" in str(info.value)


@pytest.mark.parametrize("resource", ["evil.example/x", "a b", "", "x" * 70, 3])
def test_a_resource_that_is_not_a_host_label_is_refused(resource: Any) -> None:
    with pytest.raises(ConfigurationError):
        built(AzureOpenAI(), resource=resource)


def test_a_deployment_that_would_walk_the_path_is_refused() -> None:
    with pytest.raises(ValidationError):
        built(AzureOpenAI(), model="../../other", resource="contoso", api_version="2024-10-21")
    with pytest.raises(ConfigurationError):
        built(AzureOpenAI(), resource="contoso", api_version=2024)


def test_the_key_is_sent_as_api_key_and_never_as_a_bearer() -> None:
    headers = dict(built(AzureOpenAI(), resource="contoso").headers)
    assert headers["api-key"] == "azure-key-1" and "authorization" not in headers


def test_the_token_provider_is_called_per_call_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def provider() -> str:
        calls.append(1)
        return TOKEN

    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401, json={"error": {"code": "401", "message": f"bad {TOKEN}"}})

    adapter = AzureOpenAI(resource="contoso", azure_ad_token_provider=provider)
    engine = allm.Engine(
        adapter=adapter,
        model="prod",
        retry=False,
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )
    with caplog.at_level(logging.DEBUG):
        first = allm.generate(engine, [allm.user("hi")])
        allm.generate(engine, [allm.user("hi")], streaming=False)
    assert len(calls) == 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in sent)
    assert all("api-key" not in r.headers for r in sent)
    error = first.metadata["error"]
    assert error.reason == "authentication_failed"
    assert TOKEN not in str(error) and TOKEN not in allm.to_json(first)
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("token", [None, "", "line\nbreak", 5])
def test_a_token_that_cannot_be_sent_is_refused(token: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        built(AzureOpenAI(resource="contoso", azure_ad_token_provider=lambda: token))
    assert info.value.reason == "invalid_key"


def error_served(status: int, body: Any, *, streaming: bool = True) -> Any:
    """The error an Azure adapter makes of ``body`` served with ``status``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    engine = allm.Engine(
        adapter=AzureOpenAI(resource="contoso"),
        model="prod",
        retry=False,
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )
    response = allm.generate(engine, [allm.user("hi")], streaming=streaming, api_key="k-az-01")
    return response.metadata["error"]


def test_the_inner_error_code_and_filter_results_are_kept() -> None:
    body = {
        "error": {
            "code": "invalid_prompt",
            "message": "filtered",
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"jailbreak": {"filtered": True, "detected": True}},
            },
        }
    }
    error = error_served(400, body)
    assert error.reason == "content_filter"
    assert error.metadata["azure_inner_code"] == "ResponsibleAIPolicyViolation"
    assert error.metadata["content_filter_result"]["jailbreak"]["filtered"] is True
    other = {"error": {"code": "BadRequest", "message": "x", "innererror": {"code": "Other"}}}
    error = error_served(400, other, streaming=False)
    assert (error.reason, error.metadata["azure_inner_code"]) == ("invalid_request", "Other")


def test_an_error_document_in_a_200_keeps_the_azure_reading() -> None:
    body = {"error": {"code": "content_filter", "message": "x", "innererror": {"code": "X"}}}
    error = error_served(200, body, streaming=False)
    assert error.reason == "content_filter" and error.metadata["azure_inner_code"] == "X"


def test_the_url_builder_and_repr() -> None:
    assert azure_url("https://r.openai.azure.com/openai", "responses", "d", "v1-preview") == (
        "https://r.openai.azure.com/openai/responses?api-version=v1-preview"
    )
    assert "contoso" in repr(AzureOpenAI(resource="contoso"))
    assert json.loads(built(AzureOpenAI(resource="c")).body)["model"] == "prod"


@pytest.mark.parametrize(
    "settings",
    [{"resource": 3}, {"api_version": ""}, {"azure_ad_token_provider": "not callable"}],
)
def test_configured_azure_settings_are_checked(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        allm.configure(providers={"azure": settings})
    assert "providers['azure']" in str(info.value)
    allm.configure(providers={"azure": {"resource": "ok", "api_version": "2024-10-21"}})
    allm.configure(providers={})
