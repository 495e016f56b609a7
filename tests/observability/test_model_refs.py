"""Model references (§15.1): the four spellings, adapter selection, and bad references."""

from __future__ import annotations

from typing import Any

import pytest

import allm
from allm.catalog import BundledCatalog
from allm.errors import ConfigurationError, EngineError, ValidationError
from allm.execution.runner import model_ref_problem, resolve_engine_adapter
from allm.providers.fake import Fake, text

USER = [allm.user("hi")]


def bare_engine(recorded: list[Any], **fields: Any) -> allm.Engine:
    opts = {"scripts": [[text("ok")]] * 4, "record": recorded}
    return allm.Engine(adapter_opts=opts, **fields)


@pytest.mark.parametrize(
    "model",
    ["fake:small", "small@fake", ("fake", "small"), allm.ModelRef("fake", "small")],
)
def test_each_spelling_picks_the_adapter_and_sends_the_id(model):
    recorded: list[Any] = []

    response = allm.generate(bare_engine(recorded), USER, model=model)

    assert response.text == "ok"
    request, _ = recorded[0]
    assert request.model == "small"


@pytest.mark.parametrize("model", ["fake:small", ("fake", "small")])
def test_the_engine_model_field_takes_the_same_spellings(model):
    recorded: list[Any] = []

    allm.generate(bare_engine(recorded, model=model), USER)

    assert recorded[0][0].model == "small"


def test_resolve_engine_adapter_returns_the_providers_adapter():
    adapter, model_id = resolve_engine_adapter(allm.Engine(), "small@fake")

    assert isinstance(adapter, Fake)
    assert model_id == "small"


@pytest.mark.parametrize(
    ("model", "provider"),
    [("acme:small", "acme"), ("small@acme", "acme"), (("acme", "small"), "acme")],
)
def test_an_unknown_provider_with_no_engine_adapter_is_a_typed_error_naming_it(model, provider):
    with pytest.raises(EngineError) as info:
        allm.generate(allm.Engine(), USER, model=model)

    error = info.value
    assert error.reason == "missing_adapter"
    assert repr(model) in error.message
    assert repr(provider) in error.message
    assert "fake" in error.message  # the registered providers are listed
    assert error.metadata["provider"] == provider
    assert error.metadata["model"] == model


def test_a_model_ref_of_an_unknown_provider_is_the_same_error():
    with pytest.raises(EngineError) as info:
        allm.generate(allm.Engine(), USER, model=allm.ModelRef("acme", "m"))

    assert info.value.metadata["provider"] == "acme"


def test_a_bare_id_with_no_engine_adapter_names_the_model():
    with pytest.raises(EngineError) as info:
        allm.generate(allm.Engine(), USER, model="gpt-4.1")

    assert info.value.reason == "missing_adapter"
    assert "'gpt-4.1'" in info.value.message
    assert "names no provider" in info.value.message


@pytest.mark.parametrize(
    "model",
    [
        ":gpt",
        "@",
        ":",
        "fake:",
        "@fake",
        "   ",
        ("fake", ""),
        ("", "m"),
        ("fake", "m", "x"),
        ("fake", 3),
        allm.ModelRef("", "m"),
        allm.ModelRef("fake", " "),
    ],
)
@pytest.mark.parametrize("engine_adapter", [None, "fake"])
def test_a_malformed_reference_is_a_validation_error_naming_it(model, engine_adapter):
    recorded: list[Any] = []
    engine = bare_engine(recorded, adapter=engine_adapter)

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, USER, model=model)

    error = info.value
    assert error.reason == "invalid_request"
    assert error.errors == ((("model",), "malformed_model_reference"),)
    assert f"malformed model reference {model!r}" in error.message
    assert error.metadata["model"] == model
    assert recorded == []  # before any I/O


@pytest.mark.parametrize("model", ["acme:", "small@", "@acme"])
def test_half_references_are_malformed_only_when_they_must_pick_the_adapter(model):
    recorded: list[Any] = []

    with pytest.raises(ValidationError):
        allm.generate(bare_engine(recorded), USER, model=model)
    allm.generate(bare_engine(recorded, adapter="fake"), USER, model=model)

    assert recorded[0][0].model == model  # the engine's adapter gets it verbatim


@pytest.mark.parametrize("model", ["llama3:8b", "@cf/meta/llama-3-8b", "org/model@v2"])
def test_provider_model_ids_that_look_like_references_pass_verbatim(model):
    recorded: list[Any] = []

    allm.generate(bare_engine(recorded, adapter="fake"), USER, model=model)

    assert recorded[0][0].model == model


def test_model_ref_problem_is_none_for_good_references():
    for model in ("gpt-4.1", "openai:gpt-4.1", "gpt-4.1@openai", ("openai", "gpt-4.1"), None, 5):
        assert model_ref_problem(model, strict=True) is None


def test_another_providers_reference_on_an_engine_adapter():
    recorded: list[Any] = []
    engine = bare_engine(recorded, adapter="fake")

    allm.generate(engine, USER, model="openai:gpt-4.1")
    allm.generate(engine, USER, model=("openai", "gpt-4.1"))

    assert recorded[0][0].model == "openai:gpt-4.1"  # strings go verbatim, as before
    assert recorded[1][0].model == "gpt-4.1"  # a pair cannot be sent: its id is


def test_the_catalog_sees_the_provider_the_reference_names():
    class Spy:
        def __init__(self) -> None:
            self.asked: list[tuple[str | None, str]] = []

        def lookup(self, provider: str | None, model_id: str) -> None:
            self.asked.append((provider, model_id))

    spy = Spy()
    allm.configure(catalog=spy)
    recorded: list[Any] = []
    engine = bare_engine(recorded, adapter="fake")

    allm.generate(engine, USER, model="openai:gpt-4.1")
    allm.generate(engine, USER, model=("anthropic", "claude-haiku-4-5"))
    allm.generate(engine, USER, model="plain-id")
    allm.generate(bare_engine(recorded), USER, model="fake:m")

    assert spy.asked == [
        ("openai", "gpt-4.1"),
        ("anthropic", "claude-haiku-4-5"),
        ("fake", "plain-id"),
        ("fake", "m"),
    ]


def test_a_model_ref_given_to_another_adapter_is_used_for_the_preflight():
    recorded: list[Any] = []
    ref = allm.ModelRef("openai", "no-tools", capabilities={"tools": False})
    tools = [allm.tool(name="t", description="d", schema={"type": "object"})]

    with pytest.raises(ValidationError) as info:
        allm.generate(bare_engine(recorded, adapter="fake", tools=tools), USER, model=ref)

    assert info.value.reason == "unsupported_capability"
    assert recorded == []


def test_the_bundled_catalog_prices_a_reference_sent_through_the_fake():
    allm.configure(catalog=BundledCatalog())
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"script": [text("ok"), ("usage", {"input_tokens": 1000})]},
    )

    response = allm.generate(engine, USER, model="openai:gpt-4.1")

    assert response.usage.input_cost == pytest.approx(2.0 * 1000 / 1e6)


def test_an_unknown_adapter_name_on_the_engine_still_fails_at_construction():
    with pytest.raises(ConfigurationError):
        allm.Engine(adapter="acme")
