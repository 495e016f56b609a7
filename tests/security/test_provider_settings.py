"""``allm.configure(providers=...)``: validation, precedence, and whose options a call gets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.security.provider_hosts import KEYS, Network, set_keys

import allm
from allm.adapters import Call
from allm.config import get_settings
from allm.errors import ConfigurationError
from allm.execution.runner import engine_opts_for, resolve_engine_adapter, settings_for
from allm.providers import Anthropic
from allm.providers.fake import text
from allm.providers.fake_images import ok, png
from allm.providers.openai_images import OpenAIImages
from allm.registry import resolve_adapter

USER = [allm.user("hi")]
SECRET_HEADER = "header-secret-value-0006"


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    set_keys(monkeypatch)
    return Network().install(monkeypatch)


# -- validation ------------------------------------------------------------------------------------


def test_every_problem_is_listed_at_once_and_no_header_value_is_shown() -> None:
    with pytest.raises(ConfigurationError) as info:
        allm.configure(
            providers={
                "acme": {"base_url": "https://acme.example"},
                "openai_images": {"timeout": 5},
                "gemini": "https://gemini.example",
                "anthropic": {
                    "base_url": "ftp://anthropic.example",
                    "headers": {"x-token": SECRET_HEADER + "\r\nx-evil: 1", "": "v", "x-n": 3},
                    "timeout": -1,
                    "stream_timeout": True,
                    "endpoint": "completions",
                    "max_sse_line_bytes": 0,
                    "http_client": "a client",
                    "async_http_client": httpx.Client(),
                    "bse_url": "https://typo.example",
                },
                "openai": {"base_url": "https://api openai.example", "headers": ["x"]},
                "openai_compatible": {"base_url": "http://[::1", "headers": None},
            }
        )

    error = info.value
    assert error.reason == "invalid_option"
    problems = "\n".join(error.problems)
    for expected in (
        "providers['acme']: unknown provider; registered: anthropic, azure, bedrock, cerebras, deepseek",
        "providers['openai_images']: adapter 'openai_images' reads the settings of provider "
        "'openai'",
        "providers['gemini'] must be a mapping of settings, got str",
        "providers['anthropic']['base_url']: must be an http(s) URL with a host",
        "providers['anthropic']['headers']: 'x-token' has a CR, LF or NUL in its value; "
        "name '' is not a header name; 'x-n' must be a str, got int",
        "providers['anthropic']['timeout']: must be seconds > 0, got -1",
        "providers['anthropic']['stream_timeout']: must be seconds > 0, got True",
        "providers['anthropic']['endpoint']: must be one of",
        "providers['anthropic']['max_sse_line_bytes']: must be a byte count > 0, got 0",
        "providers['anthropic']['http_client']: must be an httpx.Client, got str",
        "providers['anthropic']['async_http_client']: must be an httpx.AsyncClient, got Client",
        "providers['anthropic']['bse_url']: unknown setting; known: api_version, async_http_client,"
        " azure_ad_token_provider, base_url",
        "providers['openai']['base_url']: must not contain spaces or control characters",
        "providers['openai']['headers']: must be a mapping of header names to values, got list",
        "providers['openai_compatible']['base_url']: must be an http(s) URL with a host",
        "providers['openai_compatible']['headers']: must be a mapping",
    ):
        assert expected in problems
    assert len(error.problems) == 16
    assert SECRET_HEADER not in str(error) and SECRET_HEADER not in repr(error)
    assert get_settings().providers == {}  # nothing half-applied


@pytest.mark.parametrize("value", [None, ["anthropic"], "anthropic"])
def test_providers_must_be_a_mapping(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="providers must be a mapping"):
        allm.configure(providers=value)


def test_a_base_url_must_be_a_string() -> None:
    with pytest.raises(ConfigurationError, match="must be an http\\(s\\) URL, got int"):
        allm.configure(providers={"anthropic": {"base_url": 3}})


def test_good_settings_are_kept_as_a_copy_and_shown_without_values() -> None:
    given = {"anthropic": {"base_url": "https://a.example/v1", "headers": {"x": SECRET_HEADER}}}
    client = httpx.Client()
    allm.configure(
        providers={
            **given,
            "openai": {
                "timeout": 2.5,
                "stream_timeout": None,
                "endpoint": "responses",
                "max_sse_line_bytes": 1024,
                "http_client": client,
                "async_http_client": httpx.AsyncClient(),
            },
        }
    )
    given["anthropic"]["headers"]["x"] = "changed"

    settings = get_settings()
    assert settings.providers["anthropic"]["headers"] == {"x": SECRET_HEADER}
    assert settings.providers["openai"]["http_client"] is client
    assert SECRET_HEADER not in repr(settings)
    assert "'anthropic': ['base_url', 'headers']" in repr(settings)
    client.close()


def test_configure_providers_empty_clears_them(network: Network) -> None:
    allm.configure(providers={"anthropic": {"base_url": "https://a.configured.example/v1"}})
    engine = allm.Engine(model="anthropic:claude-haiku-4-5", retry=False)
    allm.generate(engine, USER)

    allm.configure(providers={})
    allm.generate(engine, USER)

    assert get_settings().providers == {}
    assert network.hosts == ["a.configured.example", "api.anthropic.com"]


# -- precedence: call keyword > engine > configured settings > default -------------------------------


def test_the_engines_own_adapter_object_outranks_the_configured_settings(network: Network) -> None:
    allm.configure(
        providers={
            "anthropic": {"base_url": "https://configured.example/v1", "headers": {"x-c": "c"}}
        }
    )
    own = Anthropic(base_url="https://own.example/v1")
    engine = allm.Engine(adapter=own, model="claude-haiku-4-5", retry=False)

    allm.generate(engine, USER)
    allm.generate(engine, USER, base_url="https://call.example/v1")
    allm.generate(allm.Engine(adapter="anthropic", model="claude-haiku-4-5", retry=False), USER)

    assert network.hosts == ["own.example", "call.example", "configured.example"]
    assert [sent.headers.get("x-c") for sent in network.sent] == [None, None, "c"]


def test_configured_headers_without_a_base_url_travel_only_to_the_default_host(
    network: Network,
) -> None:
    allm.configure(providers={"openai": {"headers": {"x-org-token": "for-openai-itself"}}})
    engine = allm.Engine(adapter="openai", model="gpt-4.1", retry=False)

    allm.generate(engine, USER)
    allm.generate(engine, USER, base_url="https://proxy.example/v1")

    first, second = network.sent
    assert (first.host, first.headers.get("x-org-token")) == ("api.openai.com", "for-openai-itself")
    assert (second.host, second.headers.get("x-org-token")) == ("proxy.example", None)


def test_a_configured_client_carries_the_providers_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_keys(monkeypatch)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, json={"error": {"type": "api_error", "message": "no"}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    allm.configure(providers={"anthropic": {"http_client": client, "timeout": 3}})
    engine = allm.Engine(adapter="openai", model="gpt-4.1", retry=False)

    response = allm.generate(engine, USER, model="anthropic:claude-haiku-4-5")

    assert response.finish_reason == "error"
    [request] = seen
    assert request.url.host == "api.anthropic.com"
    assert request.headers["x-api-key"] == KEYS["anthropic"][1]
    assert request.extensions["timeout"]["connect"] == 3
    client.close()


def test_settings_reach_the_adapter_below_its_constructor() -> None:
    call = Call(request_id="r", engine=allm.Engine(), provider_settings={"timeout": 7})
    images = OpenAIImages()
    own = OpenAIImages(timeout=9)

    assert images.setting(call, "timeout") == 7
    assert own.setting(call, "timeout") == 9
    assert images.request_timeout(call) == 7.0
    both = Call(
        request_id="r",
        engine=allm.Engine(),
        adapter_opts={"timeout": 2},
        provider_settings={"request_timeout": 7},
    )
    assert images.request_timeout(both) == 2.0  # a call's timeout outranks configured ones
    configured = Call(
        request_id="r", engine=allm.Engine(), provider_settings={"request_timeout": 4}
    )
    assert images.request_timeout(configured) == 4.0
    assert own.request_timeout(configured) == 9.0  # the constructor outranks configured ones


# -- whose options a call gets -----------------------------------------------------------------------


class Nameless:
    """An adapter object without a provider name."""

    def stream(self, request: Any, call: Any) -> Any:  # pragma: no cover - never run
        raise NotImplementedError


def test_engine_options_belong_to_the_engines_adapter_or_its_models_provider() -> None:
    opts = {"base_url": "https://gateway.example/v1"}
    anthropic, gemini = resolve_adapter("anthropic"), resolve_adapter("gemini")
    fake = resolve_adapter("fake")
    nameless = Nameless()

    assert engine_opts_for(allm.Engine(adapter="anthropic", adapter_opts=opts), anthropic) == opts
    assert engine_opts_for(allm.Engine(adapter="anthropic", adapter_opts=opts), gemini) == {}
    assert engine_opts_for(allm.Engine(adapter=Anthropic(), adapter_opts=opts), anthropic) == opts
    assert engine_opts_for(allm.Engine(model="gemini:g", adapter_opts=opts), gemini) == opts
    assert engine_opts_for(allm.Engine(model="gemini:g", adapter_opts=opts), anthropic) == {}
    # an engine naming no provider leaves its options to whichever the call's model selects
    assert engine_opts_for(allm.Engine(adapter_opts=opts), anthropic) == opts
    assert engine_opts_for(allm.Engine(model="acme:m", adapter_opts=opts), anthropic) == opts
    # the Fake is a stand-in for every provider and sends nothing anywhere
    assert engine_opts_for(allm.Engine(model="gemini:g", adapter_opts=opts), fake) == opts
    # an adapter without a name owns the options only as the very object the engine holds
    assert engine_opts_for(allm.Engine(adapter=nameless, adapter_opts=opts), nameless) == opts
    assert engine_opts_for(allm.Engine(adapter=nameless, adapter_opts=opts), anthropic) == {}
    assert settings_for(nameless) == {}


def test_a_reference_to_another_registered_provider_picks_that_providers_adapter() -> None:
    engine = allm.Engine(adapter="openai_compatible")

    assert resolve_engine_adapter(engine, "anthropic:claude")[0] is resolve_adapter("anthropic")
    assert resolve_engine_adapter(engine, ("gemini", "g")) == (resolve_adapter("gemini"), "g")
    ref = allm.ModelRef("openai", "gpt-4.1")
    assert resolve_engine_adapter(engine, ref) == (resolve_adapter("openai"), "gpt-4.1")
    # not a registered provider: an id of the engine's own adapter, sent as it is
    own = resolve_adapter("openai_compatible")
    assert resolve_engine_adapter(engine, "llama3:8b") == (own, "llama3:8b")
    assert resolve_engine_adapter(engine, ("acme", "m")) == (own, ("acme", "m"))
    # the Fake keeps every reference, so a test engine never goes out to a real provider
    fake = allm.Engine(adapter="fake")
    assert resolve_engine_adapter(fake, "anthropic:claude") == (
        resolve_adapter("fake"),
        "anthropic:claude",
    )


def test_an_unregistered_prefix_stays_with_the_engines_gateway(network: Network) -> None:
    engine = allm.Engine(
        adapter="openai_compatible",
        adapter_opts={"base_url": "https://gateway.example/v1"},
        retry=False,
    )

    allm.generate(engine, USER, model="llama3:8b")

    [sent] = network.sent
    assert sent.host == "gateway.example"
    assert sent.carries(KEYS["openai_compatible"][1])


def test_with_model_keeps_the_adapter_the_engines_options_belong_to() -> None:
    selected = allm.Engine(model="anthropic:claude", adapter_opts={"timeout": 1})

    assert selected.with_model("gemini:g").adapter == "anthropic"
    assert selected.merge_opts(model="gemini:g").adapter == "anthropic"
    assert selected.with_model("gemini:g").id == selected.id
    assert allm.Engine(adapter="fake").with_model("gemini:g").adapter == "fake"
    assert allm.Engine().with_model("gemini:g").adapter is None
    assert allm.Engine(model="gpt-4.1").with_model("gemini:g").adapter is None
    assert allm.Engine(model="acme:m").merge_opts(model="gemini:g").adapter is None
    assert allm.Engine(model="anthropic:c").merge_opts(params={"a": 1}).adapter is None


def test_with_model_on_an_engine_its_model_configured_switches_without_its_options(
    network: Network,
) -> None:
    engine = allm.Engine(
        model="openai_compatible:llama3",
        adapter_opts={"base_url": "https://gateway.example/v1"},
        retry=False,
    )

    allm.generate(engine, USER)
    allm.generate(engine.with_model("anthropic:claude-haiku-4-5"), USER)
    allm.generate(engine.with_model("llama3.1"), USER)  # a bare id stays with the gateway

    assert network.hosts == ["gateway.example", "api.anthropic.com", "gateway.example"]
    assert network.sent[1].carries(KEYS["anthropic"][1])


def test_the_fake_stands_in_for_every_provider_with_the_engines_options() -> None:
    recorded: list[Any] = []
    engine = allm.Engine(
        model="anthropic:claude", adapter_opts={"script": [text("ok")], "record": recorded}
    )

    response = allm.generate(engine, USER, model="fake:m")

    assert response.text == "ok"
    assert recorded[0][0].model == "m"


def test_the_fake_image_adapter_reads_the_engines_options_whatever_its_model() -> None:
    sky = allm.ImagePart.from_bytes(png(4, 4, (1, 2, 3)), "image/png")
    engine = allm.Engine(
        model="openai:gpt-image-1",
        image_adapter="fake_images",
        adapter_opts={"image_script": [ok(sky)]},
    )

    assert allm.generate_image(engine, "sky").images


def test_a_client_given_to_the_adapter_outranks_a_configured_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_keys(monkeypatch)
    seen: dict[str, int] = {"own": 0, "configured": 0}

    def counting(name: str) -> httpx.Client:
        def handler(request: httpx.Request) -> httpx.Response:
            seen[name] += 1
            return httpx.Response(500, json={"error": {"type": "api_error", "message": "no"}})

        return httpx.Client(transport=httpx.MockTransport(handler))

    own, configured = counting("own"), counting("configured")
    allm.configure(providers={"anthropic": {"http_client": configured}})

    allm.generate(allm.Engine(adapter=Anthropic(http_client=own), model="c", retry=False), USER)
    for _ in range(2):  # the configured client's transport is made once and reused
        allm.generate(allm.Engine(adapter="anthropic", model="c", retry=False), USER)

    assert seen == {"own": 1, "configured": 2}
    own.close()
    configured.close()


def test_an_adapter_registered_without_a_name_reads_the_settings_under_its_registered_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from allm import registry

    monkeypatch.setitem(registry._registry, "nameless", Nameless)

    allm.configure(providers={"nameless": {"timeout": 1}})

    assert registry.provider_of("nameless") == "nameless"
    assert get_settings().providers == {"nameless": {"timeout": 1}}
