"""The Azure OpenAI, Mistral and Ollama keys stay home: an engine configured for one provider
(pointing at a gateway of its own) and a call whose model string selects another; the request
goes to the second's host and carries the second's key only (Azure's as ``api-key``, an Entra
token only to its resource)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.security.provider_hosts import KEYS, Network

import allm

OWN_KEYS = {
    "azure": ("AZURE_OPENAI_API_KEY", "azure-key-0101"),
    "mistral": ("MISTRAL_API_KEY", "mistral-key-0102"),
    "ollama": ("OLLAMA_API_KEY", "ollama-key-0103"),
    "groq": ("GROQ_API_KEY", "groq-key-0104"),
}
ALL_KEYS = {**KEYS, **OWN_KEYS}
HOSTS = {
    "azure": "contoso.openai.azure.com",
    "mistral": "api.mistral.ai",
    "ollama": "localhost",
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
    "groq": "api.groq.com",
}
MODELS = {
    "azure": "prod-deployment",
    "mistral": "mistral-small-latest",
    "ollama": "llama3.2:3b",
    "openai": "gpt-4.1",
    "anthropic": "claude-haiku-4-5",
    "groq": "llama-3.3-70b-versatile",
}
OURS = ["azure", "mistral", "ollama"]
ENGINES = [*OURS, "openai", "anthropic", "groq"]
USER = [allm.user("hi")]


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    for variable, key in ALL_KEYS.values():
        monkeypatch.setenv(variable, key)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://contoso.openai.azure.com")
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    allm.configure(providers={})
    yield Network().install(monkeypatch)
    allm.configure(providers={})


def carried(network: Network) -> list[tuple[str, str]]:
    return [
        (provider, sent.host)
        for sent in network.sent
        for provider, (_, key) in ALL_KEYS.items()
        if sent.carries(key)
    ]


def gateway(x: str) -> allm.Engine:
    return allm.Engine(
        adapter=x,
        model=MODELS[x],
        adapter_opts={
            "base_url": f"https://{x}.gateway.example/v1",
            "headers": {"x-gateway-token": f"gateway-{x}-token"},
        },
        retry=False,
    )


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("y", OURS)
@pytest.mark.parametrize("x", ENGINES)
def test_a_call_switched_to_ours_takes_only_its_key_to_its_host(
    network: Network, x: str, y: str, streaming: bool
) -> None:
    response = allm.generate(gateway(x), USER, model=f"{y}:{MODELS[y]}", streaming=streaming)
    assert response.finish_reason == "stop", response.metadata.get("error")
    [sent] = network.sent
    host = f"{x}.gateway.example" if x == y else HOSTS[y]
    assert sent.host == host
    assert carried(network) == [(y, host)]
    if x != y:
        assert not sent.carries(f"gateway-{x}-token")
    if y == "azure":
        assert sent.headers["api-key"] == OWN_KEYS["azure"][1]
        assert "authorization" not in sent.headers


@pytest.mark.parametrize("y", ["openai", "anthropic", "groq"])
@pytest.mark.parametrize("x", OURS)
def test_a_call_switched_away_from_ours_leaves_its_key_behind(
    network: Network, x: str, y: str
) -> None:
    response = allm.generate(gateway(x), USER, model=f"{y}:{MODELS[y]}")
    assert response.finish_reason == "stop", response.metadata.get("error")
    assert carried(network) == [(y, HOSTS[y])]
    assert not network.sent[0].carries(f"gateway-{x}-token")


def test_an_entra_token_goes_only_to_its_resource(network: Network) -> None:
    from allm.providers.azure import AzureOpenAI

    token = "entra-token-0105-secret"
    adapter = AzureOpenAI(resource="fabrikam", azure_ad_token_provider=lambda: token)
    engine = allm.Engine(adapter=adapter, model="prod", retry=False)
    allm.generate(engine, USER)
    allm.generate(engine, USER, model="mistral:mistral-small-latest")
    first, second = network.sent
    assert first.host == "fabrikam.openai.azure.com" and first.carries(token)
    assert not first.carries(OWN_KEYS["azure"][1])
    assert second.host == "api.mistral.ai" and not second.carries(token)


def test_a_configured_provider_keeps_its_settings(network: Network) -> None:
    allm.configure(
        providers={
            "ollama": {"base_url": "http://gpu-box:11434"},
            "azure": {"resource": "northwind"},
        }
    )
    engine = allm.Engine(model="mistral:mistral-small-latest", retry=False)
    allm.generate(engine, USER)
    allm.generate(engine, USER, model="ollama:llama3.2")
    allm.generate(engine, USER, model="azure:prod")
    assert [s.host for s in network.sent] == [
        "api.mistral.ai",
        "gpu-box",
        "northwind.openai.azure.com",
    ]
    assert carried(network) == [
        ("mistral", "api.mistral.ai"),
        ("ollama", "gpu-box"),
        ("azure", "northwind.openai.azure.com"),
    ]


def test_ollama_needs_no_key(network: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY")
    response = allm.generate(allm.Engine(model="ollama:llama3.2", retry=False), USER)
    assert response.finish_reason == "stop"
    [sent] = network.sent
    assert sent.url == "http://localhost:11434/api/chat" and "authorization" not in sent.headers


@pytest.mark.parametrize("provider", ["azure", "mistral"])
def test_a_hosted_provider_without_its_key_fails_before_any_io(
    network: Network, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    variable = OWN_KEYS[provider][0]
    monkeypatch.delenv(variable)
    with pytest.raises(allm.errors.AllmError) as info:
        allm.generate(allm.Engine(model=f"{provider}:{MODELS[provider]}", retry=False), USER)
    assert variable in str(info.value)
    assert network.sent == []


def test_configured_headers_reach_the_configured_host_only(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box")
    allm.configure(
        providers={
            "azure": {"resource": "northwind", "headers": {"x-home": "azure-home-token"}},
            "ollama": {"headers": {"x-home": "ollama-home-token"}},
        }
    )
    allm.generate(allm.Engine(model="azure:prod", retry=False), USER)
    allm.generate(allm.Engine(model="ollama:llama3.2", retry=False), USER)
    elsewhere = allm.Engine(
        model="azure:prod", adapter_opts={"base_url": "https://other.example"}, retry=False
    )
    allm.generate(elsewhere, USER)
    away = allm.Engine(
        model="ollama:llama3.2", adapter_opts={"base_url": "http://other:11434"}, retry=False
    )
    allm.generate(away, USER)
    homes = [(s.host, s.headers.get("x-home")) for s in network.sent]
    assert homes == [
        ("northwind.openai.azure.com", "azure-home-token"),
        ("gpu-box", "ollama-home-token"),
        ("other.example", None),
        ("other", None),
    ]
