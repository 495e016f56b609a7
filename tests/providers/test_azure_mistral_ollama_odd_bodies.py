"""Bodies that are not the wire, on every path of the Azure OpenAI, Mistral and Ollama adapters:
an HTML page with 200 or 502, an empty answer, a request id header kept."""

from __future__ import annotations

import httpx
import pytest

import allm
from allm.providers.azure import AzureOpenAI
from allm.providers.mistral import Mistral
from allm.providers.ollama import Ollama

ADAPTERS = {
    "azure": lambda: AzureOpenAI(resource="contoso"),
    "mistral": Mistral,
    "ollama": Ollama,
}
HTML = b"<html><body>Bad gateway</body></html>"


def serve(provider: str, status: int, body: bytes, content_type: str) -> allm.Engine:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type, "x-request-id": "req-odd-1"}
        return httpx.Response(status, headers=headers, content=body)

    transport = httpx.MockTransport(answer)
    return allm.Engine(
        adapter=ADAPTERS[provider](),
        model="m",
        retry=False,
        adapter_opts={"http_client": httpx.Client(transport=transport)},
    )


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("status", [200, 502])
@pytest.mark.parametrize("provider", sorted(ADAPTERS))
def test_an_html_page_is_malformed_and_keeps_its_status(
    provider: str, status: int, streaming: bool
) -> None:
    engine = serve(provider, status, HTML, "text/html")
    response = allm.generate(engine, [allm.user("hi")], streaming=streaming, api_key="k-odd-01")
    error = response.metadata["error"]
    assert (error.reason, error.provider) == ("malformed_response", provider)
    assert error.status == status


@pytest.mark.parametrize("provider", ["mistral", "azure"])
def test_a_whole_body_without_choices_is_malformed(provider: str) -> None:
    engine = serve(provider, 200, b'{"id": "x"}', "application/json")
    response = allm.generate(engine, [allm.user("hi")], streaming=False, api_key="k-odd-01")
    assert response.metadata["error"].reason == "malformed_response"


def test_an_ollama_answer_keeps_its_request_id_and_configured_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = b'{"model": "m", "message": {"content": "hi"}, "done": true, "done_reason": "stop"}'
    response = allm.generate(
        serve("ollama", 200, body, "application/json"), [allm.user("hi")], streaming=False
    )
    assert response.metadata["provider_request_id"] == "req-odd-1" and response.text == "hi"
    assert Ollama().configured_home({"base_url": "http://box:1/"}) == "http://box:1"
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    assert AzureOpenAI().configured_home({}) == ""
    assert AzureOpenAI().configured_home({"base_url": "https://gw/"}) == "https://gw"
