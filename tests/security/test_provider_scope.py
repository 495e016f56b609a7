"""A key goes only to its own provider's host, whichever provider a call's model switches to.

Every ordered pair of adapter configurations (OpenAI Chat Completions, OpenAI Responses,
Anthropic, Gemini, OpenAI-compatible): an engine configured for the first, pointing at a
third-party gateway with a header of its own, and a call whose model selects the second. Every
request is recorded at the transport (see ``provider_hosts``); none may carry a key, nor the
gateway's header, to a host that is not its provider's.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from tests.security.provider_hosts import (
    KEYS,
    PAIRS,
    WIRES,
    Network,
    Wire,
    assert_headers_stay_home,
    assert_keys_stay_home,
    base_url,
    configure_every_provider,
    configured_header,
    configured_host,
    engine_for,
    set_keys,
)

import allm
from allm import sessions
from allm.errors import ConfigurationError

USER = [allm.user("What is the weather in São Paulo?")]
DEFAULT_HOSTS = {wire.provider: wire.default_host for wire in WIRES}


@allm.tool
def get_weather(location: str, unit: str = "celsius") -> str:
    """The weather at a place."""
    return f"sunny in {location}"


def expected_host(engine_wire: Wire, call_wire: Wire, *, configured: bool) -> str | None:
    """Where the switched call must go: the engine's host when both are one provider, else the
    call's provider's configured host, else its default (None: it has none)."""
    if engine_wire.provider == call_wire.provider:
        return engine_wire.engine_host
    if configured:
        return configured_host(call_wire.provider)
    return call_wire.default_host


def homes(engine_wire: Wire, *, configured: bool, extra: str | None = None, for_: str = "") -> Any:
    """Each provider's own hosts: its default, its configured one, the engine's for its own."""
    found: dict[str, set[str | None]] = {p: {host} for p, host in DEFAULT_HOSTS.items()}
    for provider, hosts in found.items():
        if configured:
            hosts.add(configured_host(provider))
    found[engine_wire.provider].add(engine_wire.engine_host)
    if extra is not None:
        found[for_].add(extra)
    return found


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    set_keys(monkeypatch)
    return Network().install(monkeypatch)


def switched_call(engine: allm.Engine, wire: Wire, switch: str, **opts: Any) -> allm.Response:
    if switch == "keyword":
        return allm.generate(engine, USER, model=wire.ref, **opts)
    if switch == "alias":
        return allm.generate(engine, USER, model=wire.alias, **opts)
    if switch == "pair":
        return allm.generate(engine, USER, model=(wire.provider, wire.model), **opts)
    if switch == "request":
        return allm.generate(engine, allm.request(USER, model=wire.ref), **opts)
    assert switch == "with_model"
    return allm.generate(engine.with_model(wire.ref), USER, **opts)


def check(network: Network, x: Wire, y: Wire, host: str, *, configured: bool = False) -> None:
    """The switched call went to ``host`` on ``y``'s wire with ``y``'s key, and nothing carried
    a key or a header where it does not belong."""
    assert network.hosts and set(network.hosts) == {host}
    assert all(sent.path.endswith(y.path) for sent in network.sent)
    assert all(sent.carries(KEYS[y.provider][1]) for sent in network.sent)
    assert_keys_stay_home(network.sent, homes(x, configured=configured))
    assert_headers_stay_home(network.sent, x.engine_header, x.engine_host)
    for provider in KEYS:
        assert_headers_stay_home(
            network.sent, configured_header(provider), configured_host(provider)
        )


@pytest.mark.parametrize(("x", "y"), PAIRS)
@pytest.mark.parametrize("form", ["named", "selected", "instance"])
@pytest.mark.parametrize("switch", ["keyword", "alias", "pair", "request", "with_model"])
def test_a_switched_call_takes_its_key_to_its_own_providers_default_host(
    network: Network, x: Wire, y: Wire, form: str, switch: str
) -> None:
    engine = engine_for(x, form, retry=False)
    host = expected_host(x, y, configured=False)

    if host is None:  # OpenAI-compatible has no default host: refused before any I/O
        with pytest.raises(ConfigurationError) as info:
            switched_call(engine, y, switch)
        assert "base_url" in str(info.value)
        assert network.sent == []
        return
    response = switched_call(engine, y, switch)

    assert response.finish_reason == "stop" and response.text
    check(network, x, y, host)


@pytest.mark.parametrize(("x", "y"), PAIRS)
@pytest.mark.parametrize("form", ["named", "selected", "instance"])
def test_a_switched_call_uses_its_providers_configured_settings(
    network: Network, x: Wire, y: Wire, form: str
) -> None:
    configure_every_provider()
    engine = engine_for(x, form, retry=False)

    response = switched_call(engine, y, "keyword")

    assert response.finish_reason == "stop"
    check(network, x, y, expected_host(x, y, configured=True) or "", configured=True)
    same = x.provider == y.provider
    assert network.sent[0].carries(configured_header(y.provider)) is not same


def _stream(engine: allm.Engine, model: str) -> Any:
    events = list(allm.stream_generate(engine, USER, model=model))
    assert isinstance(events[-1], allm.events.MessageCompleted)
    return events


def _async_stream(engine: allm.Engine, model: str) -> Any:
    async def run() -> allm.Response:
        stream = await allm.astream_generate(engine, USER, model=model)
        return await stream.collect()

    return anyio.run(run)


def _async_chat(engine: allm.Engine, model: str) -> Any:
    async def run() -> allm.ChatResult:
        return await allm.achat(engine, USER, model=model)

    return anyio.run(run)


SURFACES = {
    "stream_generate": _stream,
    "astream_generate": _async_stream,
    "generate_whole_body": lambda e, m: allm.generate(e, USER, model=m, streaming=False),
    "step": lambda e, m: allm.step(e, USER, model=m),
    "chat": lambda e, m: allm.chat(e, USER, model=m),
    "achat": _async_chat,
    "sessions.start": lambda e, m: sessions.start(e, USER, model=m),
    "sessions.reply": lambda e, m: sessions.reply(
        e, sessions.start(e, USER, model=m)[0], "again", model=m
    ),
}


@pytest.mark.parametrize(("x", "y"), PAIRS)
@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_surface_keeps_the_key_at_home(
    monkeypatch: pytest.MonkeyPatch, x: Wire, y: Wire, surface: str
) -> None:
    set_keys(monkeypatch)
    configure_every_provider()  # so OpenAI-compatible has a host of its own
    tool_loop = surface in ("chat", "achat", "sessions.start", "sessions.reply")
    network = Network(tool_first=tool_loop).install(monkeypatch)
    engine = engine_for(x, "named", retry=False, tools=[get_weather] if tool_loop else ())

    SURFACES[surface](engine, y.ref)

    host = expected_host(x, y, configured=True) or ""
    check(network, x, y, host, configured=True)
    if tool_loop:  # the tool ran and the loop went on, on the same host
        assert len(network.sent) >= 2


@pytest.mark.parametrize(("x", "y"), PAIRS)
def test_the_api_key_keyword_belongs_to_the_provider_the_call_resolves_to(
    network: Network, x: Wire, y: Wire
) -> None:
    configure_every_provider()
    engine = engine_for(x, "named", retry=False)

    switched_call(engine, y, "keyword", api_key="call-keyword-key-0005")

    [sent] = network.sent
    assert sent.host == expected_host(x, y, configured=True)
    assert sent.carries("call-keyword-key-0005")
    assert not any(sent.carries(key) for _, key in KEYS.values())


@pytest.mark.parametrize(("x", "y"), PAIRS)
@pytest.mark.parametrize("how", ["adapter_opts", "keywords"])
def test_the_calls_own_transport_options_go_with_the_call(
    network: Network, x: Wire, y: Wire, how: str
) -> None:
    engine = engine_for(x, "named", retry=False)
    chosen = {"base_url": base_url("call.example", y.provider), "headers": {"x-call": "mine"}}
    opts: dict[str, Any] = {"adapter_opts": chosen} if how == "adapter_opts" else chosen

    switched_call(engine, y, "keyword", **opts)

    [sent] = network.sent
    assert sent.host == "call.example"  # the caller chose it for this very call
    assert sent.headers["x-call"] == "mine"
    assert sent.carries(KEYS[y.provider][1])
    assert_keys_stay_home(
        network.sent, homes(x, configured=False, extra="call.example", for_=y.provider)
    )
    assert_headers_stay_home(network.sent, x.engine_header, x.engine_host)


@pytest.mark.parametrize("x", WIRES, ids=lambda wire: wire.name)
@pytest.mark.parametrize("model", [None, "gpt-image-1", "openai:gpt-image-1"])
def test_an_image_call_sends_the_openai_key_only_to_openais_hosts(
    network: Network, x: Wire, model: str | None
) -> None:
    engine = engine_for(x, "named", retry=False, image_adapter="openai_images")
    opts = {} if model is None else {"model": model}

    response = allm.generate_image(engine, "a cat", **opts)

    assert response.images
    [sent] = network.sent
    assert sent.path.endswith("/images/generations")
    assert sent.host == (x.engine_host if x.provider == "openai" else "api.openai.com")
    assert sent.carries(KEYS["openai"][1])
    assert_keys_stay_home(network.sent, homes(x, configured=False))
    assert_headers_stay_home(network.sent, x.engine_header, x.engine_host)


def test_an_image_call_uses_openais_configured_settings(network: Network) -> None:
    configure_every_provider()
    engine = engine_for(WIRES[2], "named", image_adapter="openai_images")

    allm.generate_image(engine, "a cat", model="gpt-image-1")

    [sent] = network.sent
    assert sent.host == configured_host("openai")
    assert sent.headers["x-configured-token"] == configured_header("openai")


EMBEDDING_MODELS = {
    "openai": ("openai:text-embedding-3-small", "/embeddings"),
    "gemini": ("gemini:gemini-embedding-001", ":batchEmbedContents"),
    "openai_compatible": ("openai_compatible:nomic-embed-text", "/embeddings"),
}


@pytest.mark.parametrize("x", WIRES, ids=lambda wire: wire.name)
@pytest.mark.parametrize("provider", list(EMBEDDING_MODELS))
@pytest.mark.parametrize("configured", [False, True], ids=["defaults", "configured"])
def test_an_embedding_call_switched_by_its_model_keeps_the_key_at_home(
    network: Network, x: Wire, provider: str, configured: bool
) -> None:
    if configured:
        configure_every_provider()
    engine = engine_for(x, "named", retry=False)
    model, path = EMBEDDING_MODELS[provider]
    same = x.provider == provider
    host = x.engine_host if same else configured_host(provider) if configured else None
    host = host or DEFAULT_HOSTS[provider]

    if host is None:  # OpenAI-compatible has no default host
        with pytest.raises(ConfigurationError):
            allm.embed(engine, ["the cat sat", "on the mat"], model=model)
        assert network.sent == []
        return
    response = allm.embed(engine, ["the cat sat", "on the mat"], model=model)

    assert len(response.vectors) == 2
    [sent] = network.sent
    assert (sent.host, sent.path.endswith(path)) == (host, True)
    assert sent.carries(KEYS[provider][1])
    assert_keys_stay_home(network.sent, homes(x, configured=configured))
    assert_headers_stay_home(network.sent, x.engine_header, x.engine_host)


@pytest.mark.parametrize("x", WIRES, ids=lambda wire: wire.name)
def test_a_moderation_call_sends_the_openai_key_only_to_openais_hosts(
    network: Network, x: Wire
) -> None:
    engine = engine_for(x, "named", retry=False)

    allm.moderate(
        engine, ["have a nice day", "I will hurt you"], model="openai:omni-moderation-latest"
    )

    [sent] = network.sent
    assert sent.host == (x.engine_host if x.provider == "openai" else "api.openai.com")
    assert sent.carries(KEYS["openai"][1])
    assert_keys_stay_home(network.sent, homes(x, configured=False))
    assert_headers_stay_home(network.sent, x.engine_header, x.engine_host)


def test_an_engine_whose_embedding_model_picks_a_provider_keeps_its_options_there(
    network: Network,
) -> None:
    engine = allm.Engine(
        embedding_model="openai_compatible:nomic-embed-text",
        adapter_opts={"base_url": "https://local.example/v1"},
        retry=False,
    )

    allm.embed(engine, ["the cat sat", "on the mat"])
    allm.embed(engine, ["the cat sat", "on the mat"], model="openai:text-embedding-3-small")

    assert network.hosts == ["local.example", "api.openai.com"]
    assert network.sent[1].carries(KEYS["openai"][1])
    assert not network.sent[0].carries(KEYS["openai"][1])
