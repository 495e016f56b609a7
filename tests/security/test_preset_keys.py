"""The presets' keys stay home: every ordered pair of presets (and the first-party providers),
an engine configured for the first (pointing at a gateway of its own) and a call whose model
string selects the second; the request goes to the second's default host and carries the second's
key only. A configured preset (``configure(providers={"groq": ...})``) keeps its settings."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from tests.security.provider_hosts import KEYS, Network

import allm
from allm.providers.presets import PRESETS

PRESET_KEYS = {
    name: (f"{name.upper()}_API_KEY", f"sk-{name}-key-{i:04d}") for i, name in enumerate(PRESETS)
}
ALL_KEYS = {**KEYS, **PRESET_KEYS}
HOSTS = {name: urlsplit(preset.base_url).hostname for name, preset in PRESETS.items()}
HOSTS.update({"openai": "api.openai.com", "anthropic": "api.anthropic.com"})
MODELS = {"openai": "gpt-4.1", "anthropic": "claude-haiku-4-5"}
ENGINES = [*sorted(PRESETS), "openai", "anthropic"]
USER = [allm.user("hi")]


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    for variable, key in ALL_KEYS.values():
        monkeypatch.setenv(variable, key)
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


@pytest.mark.parametrize("y", sorted(PRESETS))
@pytest.mark.parametrize("x", ENGINES)
def test_a_call_switched_to_a_preset_takes_only_that_presets_key_to_its_host(
    network: Network, x: str, y: str
) -> None:
    engine = allm.Engine(
        adapter=x,
        model=MODELS.get(x, "m"),
        adapter_opts={"base_url": f"https://{x}.gateway.example/v1"},
        retry=False,
    )
    response = allm.generate(engine, USER, model=f"{y}:some/model")
    assert response.finish_reason == "stop", response.metadata.get("error")
    [sent] = network.sent
    if x == y:  # the engine's own options are its own preset's
        assert sent.host == f"{x}.gateway.example"
    else:
        assert sent.host == HOSTS[y]
    assert carried(network) == [(y, sent.host)]
    assert sent.path.endswith("/chat/completions")


@pytest.mark.parametrize("y", ["openai", "anthropic"])
@pytest.mark.parametrize("x", sorted(PRESETS))
def test_a_call_switched_away_from_a_preset_leaves_its_key_behind(
    network: Network, x: str, y: str
) -> None:
    engine = allm.Engine(
        adapter=x,
        model="m",
        adapter_opts={"base_url": f"https://{x}.gateway.example/v1"},
        retry=False,
    )
    response = allm.generate(engine, USER, model=f"{y}:{MODELS[y]}")
    assert response.finish_reason == "stop", response.metadata.get("error")
    assert [(p, h) for p, h in carried(network)] == [(y, HOSTS[y])]


def test_a_configured_preset_uses_its_own_settings_and_key(network: Network) -> None:
    allm.configure(providers={"groq": {"base_url": "https://groq.configured.example/openai/v1"}})
    engine = allm.Engine(model="openrouter:anthropic/claude-sonnet-4", retry=False)
    allm.generate(engine, USER)
    allm.generate(engine, USER, model="groq:llama-3.3-70b-versatile")
    assert [s.host for s in network.sent] == ["openrouter.ai", "groq.configured.example"]
    assert carried(network) == [
        ("openrouter", "openrouter.ai"),
        ("groq", "groq.configured.example"),
    ]
    assert network.sent[0].path == "/api/v1/chat/completions"


def test_a_hosted_preset_without_its_key_fails_before_any_io(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROQ_API_KEY")
    engine = allm.Engine(model="groq:llama-3.3-70b-versatile", retry=False)
    with pytest.raises(allm.errors.AllmError) as info:
        allm.generate(engine, USER)
    assert "GROQ_API_KEY" in str(info.value)
    assert network.sent == []


def test_a_local_preset_needs_no_key(network: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_API_KEY")
    response = allm.generate(allm.Engine(model="vllm:Qwen/Qwen3-8B", retry=False), USER)
    assert response.finish_reason == "stop"
    [sent] = network.sent
    assert (sent.host, sent.url.split("/v1")[0]) == ("localhost", "http://localhost:8000")
    assert "authorization" not in sent.headers and carried(network) == []
