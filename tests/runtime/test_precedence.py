"""Option precedence (call > request > engine > config > default) and adapter selection."""

from __future__ import annotations

from typing import Any

import pytest

import allm
from allm import adapters, registry
from allm.adapters import TRANSPORT_KEYS, Call, registered_names, resolve_adapter
from allm.errors import ConfigurationError, EngineError
from allm.execution.runner import split_model_ref
from allm.providers.fake import Fake

LEVELS = ["call", "request", "engine", "config", "default"]

# The value each level supplies, per option; the expected winner is the highest level present.
VALUES: dict[str, dict[str, Any]] = {
    "temperature": {"call": 0.1, "request": 0.2, "engine": 0.3, "config": 0.4},
    "max_tokens": {"call": 11, "request": 22, "engine": 33, "config": 44},
}


def _run(option: str, top: str, make_engine: Any, recorded: list[Any], driver: Any) -> Any:
    """Set ``option`` at ``top`` and every lower level, run a call, return what the adapter got."""
    present = LEVELS[LEVELS.index(top) :]
    values = VALUES[option]
    if "config" in present:
        allm.configure(params={option: values["config"]})
    engine = make_engine(params={option: values["engine"]} if "engine" in present else {})
    fields = {option: values["request"]} if "request" in present else {}
    request = allm.request([allm.user("hi")], **fields)
    call_opts = {option: values["call"]} if "call" in present else {}
    driver.generate(engine, request, **call_opts)
    sent, call = recorded[-1]
    return getattr(sent, option), call


@pytest.mark.parametrize("option", sorted(VALUES))
@pytest.mark.parametrize("top", LEVELS)
def test_option_precedence_call_request_engine_config_default(
    option, top, make_engine, recorded, driver
):
    sent, call = _run(option, top, make_engine, recorded, driver)

    expected = VALUES[option].get(top)  # "default" has no value: None
    assert sent == expected
    assert option not in call.params  # typed request fields never travel twice


def test_option_precedence_for_model(make_engine, recorded):
    allm.configure(params={"model": "config-model"})
    engine = make_engine(model="engine-model")
    with_model = allm.request([allm.user("hi")], model="request-model")
    without_model = allm.request([allm.user("hi")])

    allm.generate(engine, with_model, model="call-model")
    allm.generate(make_engine(model="engine-model"), with_model)
    allm.generate(make_engine(model="engine-model"), without_model)
    allm.generate(make_engine(), without_model)
    allm.configure(params={})
    allm.generate(make_engine(), without_model)

    assert [request.model for request, _ in recorded] == [
        "call-model",
        "request-model",
        "engine-model",
        "config-model",
        None,
    ]
    assert all("model" not in call.params for _, call in recorded)


def test_config_params_and_engine_params_reach_the_adapter(make_engine, recorded):
    allm.configure(params={"top_p": 0.1, "seed": 1, "user": "config"})
    engine = make_engine(params={"seed": 2, "user": "engine"})

    allm.generate(engine, [allm.user("hi")], provider_options={"fake": {"user": "call"}})

    request, call = recorded[0]
    assert dict(call.params) == {"user": "engine"}  # the engine over the configuration
    assert dict(call.provider_options) == {"user": "call"}
    # the neutral fields (W1) resolve into the request with the same precedence
    assert (request.top_p, request.seed) == (0.1, 2)


def test_call_adapter_opts_override_engine_adapter_opts(make_engine, recorded):
    engine = make_engine(adapter_opts={"region": "eu", "tier": "gold"})

    allm.generate(engine, [allm.user("hi")], adapter_opts={"tier": "silver", "extra": 1})

    _, call = recorded[0]
    assert call.adapter_opts["region"] == "eu"
    assert call.adapter_opts["tier"] == "silver"
    assert call.adapter_opts["extra"] == 1
    assert call.opt("tier") == "silver"
    assert call.opt("absent", "fallback") == "fallback"
    assert engine.adapter_opts["tier"] == "gold"  # the engine is untouched


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("timeout", 5.0), ("stream_timeout", 12.5), ("base_url", "http://localhost:1234/v1")],
)
def test_transport_keywords_land_in_adapter_opts_not_params(make_engine, recorded, keyword, value):
    engine = make_engine(adapter_opts={keyword: "engine value"})

    allm.generate(engine, [allm.user("hi")], **{keyword: value})

    _, call = recorded[0]
    assert call.adapter_opts[keyword] == value
    assert keyword not in call.params
    assert keyword in TRANSPORT_KEYS


def test_transport_keyword_beats_call_adapter_opts(make_engine, recorded):
    allm.generate(make_engine(), [allm.user("hi")], adapter_opts={"timeout": 1.0}, timeout=2.0)

    assert recorded[0][1].adapter_opts["timeout"] == 2.0


def test_control_and_stream_keywords_stay_out_of_params(make_engine, recorded):
    allm.generate(
        make_engine(),
        [allm.user("hi")],
        request_id="r1",
        api_key="k",
        adapter_opts={"a": 1},
        emit_text_deltas=False,
        include_raw_chunks=True,
        provider_options={"fake": {"provider_knob": True}},
    )

    _, call = recorded[0]
    assert dict(call.params) == {}
    assert dict(call.provider_options) == {"provider_knob": True}
    assert isinstance(call, Call)


# -- adapter selection ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["fake:some-model", "some-model@fake", ("fake", "some-model")])
def test_provider_model_selects_the_adapter_on_an_engine_without_one(driver, recorded, model):
    engine = allm.Engine(model=model, adapter_opts={"script": [("text", "hi")], "record": recorded})

    response = driver.generate(engine, [allm.user("hi")])

    assert response.text == "hi"
    assert recorded[0][0].model == "some-model"


def test_provider_model_as_a_call_keyword_selects_the_adapter(recorded):
    engine = allm.Engine(adapter_opts={"script": [("text", "hi")], "record": recorded})

    allm.generate(engine, [allm.user("hi")], model="fake:some-model")

    assert recorded[0][0].model == "some-model"


def test_matching_provider_prefix_is_stripped_for_the_engine_adapter(make_engine, recorded):
    allm.generate(make_engine(), [allm.user("hi")], model="fake:m1")
    allm.generate(make_engine(adapter=Fake), [allm.user("hi")], model="m2@fake")

    assert [request.model for request, _ in recorded] == ["m1", "m2"]


def test_unregistered_prefixes_keep_the_model_whole(make_engine, recorded):
    allm.generate(make_engine(), [allm.user("hi")], model="llama3:8b")

    assert recorded[0][0].model == "llama3:8b"


def test_split_model_ref():
    assert split_model_ref("fake:gpt-x") == ("fake", "gpt-x")
    assert split_model_ref("gpt-x@fake") == ("fake", "gpt-x")
    assert split_model_ref(("anything", "m")) == ("anything", "m")
    assert split_model_ref(allm.ModelRef("fake", "m")) == ("fake", "m")
    assert split_model_ref("llama3:8b") == (None, "llama3:8b")
    assert split_model_ref("fake:") == (None, "fake:")
    assert split_model_ref("@fake") == (None, "@fake")
    assert split_model_ref("plain") == (None, "plain")
    assert split_model_ref(None) == (None, None)


def test_no_adapter_and_no_provider_is_a_preflight_engine_error(driver):
    engine = allm.Engine(model="plain-model")

    with pytest.raises(EngineError) as info:
        driver.generate(engine, [allm.user("hi")])

    assert info.value.reason == "missing_adapter"


def test_unknown_adapter_name_raises_at_engine_construction():
    with pytest.raises(ConfigurationError) as info:
        allm.Engine(adapter="no-such-adapter")

    assert info.value.reason == "invalid_adapter"
    assert "no-such-adapter" in info.value.message
    assert "fake" in info.value.message  # the registered names are listed


def test_adapter_may_be_a_name_a_class_or_an_instance(recorded):
    instance = Fake()
    opts = {"script": [("text", "hi")], "record": recorded}

    for adapter in ("fake", Fake, instance):
        assert allm.generate(allm.Engine(adapter=adapter, adapter_opts=opts), [allm.user("x")]).text
    assert resolve_adapter("fake") is resolve_adapter(Fake)
    assert resolve_adapter(instance) is instance
    assert resolve_adapter(None) is None
    assert "fake" in registered_names()


def test_resolve_adapter_rejects_an_unknown_name():
    with pytest.raises(ConfigurationError):
        resolve_adapter("no-such-adapter")


def test_register_adapter_makes_a_new_name_usable(monkeypatch, recorded):
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    assert "fake_alias" not in registered_names()

    adapters.register_adapter("fake_alias", "allm.providers.fake:Fake")
    engine = allm.Engine(adapter="fake_alias", adapter_opts={"script": [("text", "hi")]})
    by_model = allm.Engine(adapter_opts={"script": [("text", "hi")], "record": recorded})

    assert "fake_alias" in registered_names()
    assert allm.generate(engine, [allm.user("x")]).text == "hi"
    assert allm.generate(by_model, [allm.user("x")], model="fake_alias:m").text == "hi"
    assert recorded[0][0].model == "m"
    assert resolve_adapter("fake_alias") is resolve_adapter("fake")
