"""The bundled catalog: its data, lookups, bad files, pre-flight and costs from its prices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import allm
from allm.catalog import (
    CAPABILITY_KEYS,
    BundledCatalog,
    CatalogError,
    ModelCatalog,
    apply_costs,
    check_capabilities,
    effective_pricing,
    load_catalog,
)
from allm.errors import ConfigurationError, ValidationError
from allm.providers.fake import finish, text, usage

USER = [allm.user("hi")]
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
DATA = Path(allm.catalog.__file__).with_name("models.json")


@pytest.fixture(scope="module")
def bundled() -> BundledCatalog:
    return BundledCatalog()


@pytest.fixture
def installed(bundled: BundledCatalog) -> BundledCatalog:
    allm.configure(catalog=bundled)
    return bundled


def priced_engine(model: str, **usage_fields: Any) -> allm.Engine:
    script = [text("ok"), usage(**usage_fields), finish()]
    return allm.Engine(adapter="fake", model=model, adapter_opts={"scripts": [script] * 2})


# -- the data ------------------------------------------------------------------------------------


def test_the_bundled_file_covers_the_three_providers(bundled):
    assert isinstance(bundled, ModelCatalog)
    assert {ref.provider for ref in bundled} == {"openai", "anthropic", "gemini"}
    for provider in ("openai", "anthropic", "gemini"):
        assert len(bundled.models(provider)) >= 8
    assert len(bundled) == len(json.loads(DATA.read_text())["models"])
    assert bundled.updated == "2026-11-24"
    assert repr(bundled) == f"BundledCatalog({len(bundled)} models from allm/catalog/models.json)"


def _is_audio(ref):
    return bool(ref.capabilities.get("speech") or ref.capabilities.get("transcription"))


def test_every_row_states_every_capability_and_its_prices(bundled):
    for ref in bundled:
        if _is_audio(ref):
            continue
        if ref.capabilities.get("embeddings") or ref.capabilities.get("moderation"):
            assert ref.pricing is not None and "input" in ref.pricing, ref
            assert ref.capabilities.get("embeddings") is not True or ref.limits["dimensions"], ref
            continue
        assert set(ref.capabilities) == CAPABILITY_KEYS, ref
        assert isinstance(ref.limits.get("context"), int), ref
        assert ref.pricing is not None and {"input", "output"} <= set(ref.pricing), ref
        assert ref.pricing.get("cached_input", 0) <= ref.pricing["input"], ref
        if "output" not in ref.limits:
            assert "output limit not yet recorded" in ref.metadata["notes"], ref


def test_prompt_caching_is_stated_where_the_provider_caches(bundled):
    # Every model the providers cache prompts for has a cached-input price, and only those:
    # OpenAI excludes gpt-4o-2024-05-13 and prices no cached input for o3-pro.
    for ref in bundled:
        if "prompt_caching" in ref.capabilities:
            cached = "cached_input" in (ref.pricing or {})
            assert ref.capabilities["prompt_caching"] is cached, ref
    lacking = {ref.id for ref in bundled if ref.capabilities.get("prompt_caching") is False}
    assert lacking == {"gpt-4o-2024-05-13", "o3-pro"}


def test_caching_asked_of_a_model_without_it_is_rejected(installed):
    engine = allm.Engine(adapter="fake", adapter_opts={"scripts": [[text("x")]] * 2})
    with pytest.raises(ValidationError) as info:
        allm.generate(engine, USER, model="openai:gpt-4o-2024-05-13", prompt_cache="auto")
    assert info.value.errors == ((("prompt_cache",), "prompt_caching_disabled"),)
    assert allm.generate(engine, USER, model="anthropic:claude-sonnet-4-5", prompt_cache="auto")


def test_every_audio_row_states_its_use_and_its_prices(bundled):
    audio = [ref for ref in bundled if _is_audio(ref)]
    assert {ref.id for ref in audio} >= {
        "tts-1",
        "gpt-4o-mini-tts",
        "whisper-1",
        "gpt-4o-transcribe",
    }
    for ref in audio:
        assert ref.pricing, ref
        if ref.capabilities.get("transcription"):
            assert isinstance(ref.capabilities.get("timestamps"), bool), ref
            assert ref.limits["audio_bytes"] == 25 * 1024 * 1024, ref
        else:
            assert ref.limits["input_characters"] == 4096, ref
    assert bundled.lookup("openai", "whisper-1").pricing == {"audio_minute": 0.006}
    assert bundled.lookup("gemini", "gemini-2.5-flash").pricing["audio_input"] == 1


def test_known_rows(bundled):
    gpt41 = bundled.lookup("openai", "gpt-4.1")
    assert gpt41.limits == {"context": 1047576, "output": 32768}
    assert gpt41.pricing == {"input": 2, "cached_input": 0.5, "output": 8}
    sonnet = bundled.lookup("anthropic", "claude-sonnet-4-5")
    assert sonnet.pricing["cache_write"] == 3.75
    assert sonnet.pricing["tiers"] == [
        {
            "above_input_tokens": 200000,
            "input": 6,
            "cached_input": 0.6,
            "cache_write": 7.5,
            "output": 22.5,
        }
    ]
    assert bundled.lookup("openai", "o3-mini").capabilities["vision"] is False
    assert bundled.lookup("openai", "gpt-4o-2024-05-13").capabilities["json_native"] is False
    assert bundled.lookup("openai", "o3-pro").capabilities["streaming"] is False
    assert bundled.lookup("gemini", "gemini-2.5-pro").metadata["name"] == "Gemini 2.5 Pro"


@pytest.mark.parametrize(
    ("provider", "model_id", "expected"),
    [
        ("openai", "gpt-4.1-2025-04-14", "gpt-4.1"),  # an alias
        ("openai", "GPT-4.1", "gpt-4.1"),  # case
        ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic", "claude-opus-4-7-20260101", "claude-opus-4-7"),  # an unlisted snapshot
        ("anthropic", "claude-sonnet-4", "claude-sonnet-4-0"),
        ("gemini", "models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("google", "gemini-2.5-flash", "gemini-2.5-flash"),
        (None, "claude-haiku-4-5", "claude-haiku-4-5"),
        ("openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # a listed snapshot wins
    ],
)
def test_lookup(bundled, provider, model_id, expected):
    ref = bundled.lookup(provider, model_id)
    assert ref is not None
    assert ref.id == expected


@pytest.mark.parametrize(
    ("provider", "model_id"),
    [("openai", "claude-haiku-4-5"), ("fake", "gpt-4.1"), ("openai", "nope"), ("openai", "")],
)
def test_lookup_misses(bundled, provider, model_id):
    assert bundled.lookup(provider, model_id) is None


def test_a_bare_id_two_providers_share_is_ambiguous():
    catalog = BundledCatalog(
        [allm.ModelRef("a", "same"), allm.ModelRef("b", "same"), allm.ModelRef("a", "only-a")]
    )

    assert catalog.lookup(None, "same") is None
    assert catalog.lookup(None, "only-a").provider == "a"
    assert catalog.lookup("b", "same").provider == "b"
    assert catalog.source == "<models>"
    with pytest.raises(TypeError):
        BundledCatalog([{"provider": "a"}])  # type: ignore[list-item]


def test_load_catalog_reads_the_bundled_file_or_another(tmp_path, bundled):
    assert len(load_catalog()) == len(bundled)
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps({"models": [{"provider": "acme", "id": "m1", "pricing": {"input": 1}}]})
    )

    mine = load_catalog(path)

    assert mine.lookup("acme", "m1").pricing == {"input": 1}
    assert mine.source == str(path)
    assert mine.updated is None


# -- bad files -----------------------------------------------------------------------------------


def write_catalog(tmp_path: Path, models: list[Any], **top: Any) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"format": 1, **top, "models": models}))
    return path


GOOD = {"provider": "openai", "id": "good", "pricing": {"input": 1, "output": 2}}


@pytest.mark.parametrize(
    ("row", "named"),
    [
        (
            {**GOOD, "pricing": {"input": "2$"}},
            "pricing.input must be a non-negative number, got '2$'",
        ),
        ({**GOOD, "pricing": {"input": -1}}, "got -1"),
        ({**GOOD, "pricing": {"imput": 1}}, "unknown price 'imput'"),
        ({**GOOD, "pricing": [1]}, "pricing must be an object, got [1]"),
        (
            {**GOOD, "pricing": {"tiers": [{"input": 1}]}},
            "above_input_tokens must be a positive integer, got None",
        ),
        ({**GOOD, "pricing": {"tiers": {"x": 1}}}, "tiers must be a list"),
        ({**GOOD, "pricing": {"tiers": [3]}}, "tiers[0] must be an object, got 3"),
        ({**GOOD, "capabilities": {"tool": True}}, "unknown capability 'tool'"),
        (
            {**GOOD, "capabilities": {"tools": "yes"}},
            "capabilities.tools must be true or false, got 'yes'",
        ),
        ({**GOOD, "capabilities": []}, "capabilities must be an object"),
        ({**GOOD, "limits": {"output": 0}}, "limits.output must be a positive integer, got 0"),
        ({**GOOD, "limits": {"output": 1.5}}, "got 1.5"),
        ({**GOOD, "limits": {"ctx": 10}}, "unknown limit 'ctx'"),
        ({**GOOD, "limits": 5}, "limits must be an object"),
        ({**GOOD, "id": ""}, "id must be a non-empty string"),
        (
            {**GOOD, "provider": 7},
            "provider must be a non-empty string without spaces around it, got 7",
        ),
        ({**GOOD, "id": " padded"}, "got ' padded'"),
        ({**GOOD, "aliases": "x"}, "aliases must be a list of non-empty strings, got 'x'"),
        ({**GOOD, "name": 3}, "name must be a string, got 3"),
        ({**GOOD, "notes": 3}, "notes must be a string, got 3"),
        ({**GOOD, "metadata": 3}, "metadata must be an object, got 3"),
        ({**GOOD, "colour": "red"}, "unknown field 'colour'"),
        ("gpt-4", "models[1] must be an object, got 'gpt-4'"),
    ],
)
def test_a_file_with_a_bad_row_is_a_catalog_error_naming_the_value(tmp_path, row, named):
    path = write_catalog(tmp_path, [GOOD, row])

    with pytest.raises(CatalogError) as info:
        BundledCatalog.from_file(path)

    error = info.value
    assert isinstance(error, ConfigurationError) and isinstance(error, ValueError)
    assert len(error.problems) == 1
    assert named in error.problems[0]
    assert error.problems[0].startswith("models[1]")
    assert str(path) in error.message
    assert error.metadata["source"] == str(path)


def test_every_problem_is_listed_at_once(tmp_path):
    rows = [
        GOOD,
        {**GOOD, "id": "first", "pricing": {"input": "x"}},
        {**GOOD, "id": "second", "limits": {"output": -5}},
        {**GOOD},  # the id of row 0 again
        {**GOOD, "id": "third", "aliases": ["GOOD"]},  # an alias matching row 0's id
    ]

    with pytest.raises(CatalogError) as info:
        BundledCatalog.from_file(write_catalog(tmp_path, rows))

    assert info.value.problems == (
        "models[1] (openai:first).pricing.input must be a non-negative number, got 'x'",
        "models[2] (openai:second).limits.output must be a positive integer, got -5",
        "models[3] (openai:good): 'good' is already used by models[0] (openai:good)",
        "models[4] (openai:third): 'GOOD' is already used by models[0] (openai:good)",
    )


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"models": {"a": 1}}, "models must be a list"),
        ({"format": 2, "models": []}, "format must be 1, got 2"),
        ({"models": [], "extra": 1}, "unknown top-level field 'extra'"),
    ],
)
def test_bad_documents(document, named):
    with pytest.raises(CatalogError) as info:
        BundledCatalog.from_data(document, source="mine")

    assert any(named in problem for problem in info.value.problems)
    assert "catalog mine" in info.value.message


def test_not_an_object_not_json_and_no_file(tmp_path):
    with pytest.raises(CatalogError, match="expected an object"):
        BundledCatalog.from_data([1, 2])  # type: ignore[arg-type]
    broken = tmp_path / "broken.json"
    broken.write_text('{"models": [}')
    with pytest.raises(CatalogError, match="not valid JSON") as info:
        BundledCatalog.from_file(broken)
    assert "line 1 column" in info.value.problems[0]
    with pytest.raises(CatalogError, match="cannot be read"):
        BundledCatalog.from_file(tmp_path / "missing.json")


def test_from_data_keeps_the_documents_other_fields():
    catalog = BundledCatalog.from_data(
        {"updated": "2030-01-01", "currency": "USD", "models": [GOOD]}
    )

    assert catalog.updated == "2030-01-01"
    assert catalog.info["currency"] == "USD"


# -- pre-flight with the bundled catalog (§15.2) -------------------------------------------------


def image_message() -> allm.Message:
    return allm.user([allm.TextPart("what is it?"), allm.ImagePart.from_bytes(PNG, "image/png")])


def test_vision_on_a_text_only_model_is_rejected(installed):
    recorded: list[Any] = []
    engine = allm.Engine(
        adapter="fake", model="o3-mini", adapter_opts={"script": [text("x")], "record": recorded}
    )

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, [image_message()], model="openai:o3-mini")

    assert info.value.reason == "unsupported_capability"
    assert info.value.errors == ((("messages", 0, "content"), "vision_disabled"),)
    assert "openai:o3-mini" in info.value.message
    assert recorded == []


def test_json_schema_on_a_model_without_structured_outputs_is_rejected(installed):
    engine = priced_engine("openai:gpt-4o-2024-05-13")

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, USER, response_format=allm.json_schema("a", SCHEMA))
    response = allm.generate(engine, USER, response_format={"type": "json_object"})

    assert info.value.errors == ((("response_format",), "json_native_disabled"),)
    assert response.text == "ok"  # json_object is not rejected


def test_max_tokens_over_the_models_output_limit_is_rejected(installed):
    engine = priced_engine("openai:gpt-4.1")

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, USER, max_tokens=32769)
    response = allm.generate(engine, USER, max_tokens=32768)

    assert info.value.errors == ((("max_tokens",), "exceeds_model_limit"),)
    assert "32769 > 32768" in info.value.message
    assert response.text == "ok"


def test_every_problem_is_listed_before_any_io(installed):
    recorded: list[Any] = []
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("x")], "record": recorded})
    capped = allm.ModelRef(
        "openai",
        "no-tools",
        capabilities={"tools": False, "json_native": False, "vision": False},
        limits={"output": 10},
    )
    tools = [allm.tool(name="t", description="d", schema={"type": "object"})]

    with pytest.raises(ValidationError) as info:
        allm.generate(
            engine,
            [image_message()],
            model=capped,
            tools=tools,
            response_format=allm.json_schema("a", SCHEMA),
            max_tokens=11,
        )

    assert set(info.value.errors) == {
        (("tools",), "tools_disabled"),
        (("response_format",), "json_native_disabled"),
        (("messages", 0, "content"), "vision_disabled"),
        (("max_tokens",), "exceeds_model_limit"),
    }
    assert recorded == []


def test_a_chat_step_is_checked_too(installed):
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("x")]})

    with pytest.raises(ValidationError) as info:
        allm.chat(engine, USER, model="openai:gpt-4.1", max_tokens=10**6)

    assert info.value.reason == "unsupported_capability"


def test_unknown_capabilities_and_limits_never_reject():
    ref = allm.ModelRef("openai", "new", capabilities={}, limits={})
    request = allm.request(
        [image_message()],
        tools=[allm.tool(name="t", description="d", schema={"type": "object"})],
        response_format=allm.json_schema("a", SCHEMA),
        max_tokens=10**9,
    )

    assert check_capabilities(request, ref) is None
    assert check_capabilities(request, allm.ModelRef("x", "y", limits={"output": True})) is None


def test_structured_finalize_rewrite_still_runs_with_the_catalog(installed):
    recorded: list[Any] = []

    class Finalizing(allm.providers.Fake):  # type: ignore[name-defined,misc]
        def requires_structured_finalize(self, request: Any) -> bool:
            return bool(request.tools)

    engine = allm.Engine(
        adapter=Finalizing(),
        adapter_opts={"script": [text("{}")], "record": recorded},
        tools=[allm.tool(name="t", description="d", schema={"type": "object"})],
    )

    allm.generate(
        engine, USER, model="openai:gpt-4.1", response_format=allm.json_schema("a", SCHEMA)
    )

    assert recorded[0][0].structured_finalize is True


# -- costs (§15.3) -------------------------------------------------------------------------------


def test_cost_with_cached_input_tokens_is_the_hand_computation(installed):
    engine = priced_engine(
        "openai:gpt-4.1", input_tokens=10_000, cached_input_tokens=6_000, output_tokens=500
    )

    usage_out = allm.generate(engine, USER).usage

    # gpt-4.1: input 2.00, cached input 0.50, output 8.00 USD per million tokens
    expected_input = (4_000 * 2.00 + 6_000 * 0.50) / 1_000_000
    expected_output = 500 * 8.00 / 1_000_000
    assert usage_out.input_cost == pytest.approx(expected_input)
    assert usage_out.input_cost == pytest.approx(0.011)
    assert usage_out.output_cost == pytest.approx(expected_output)
    assert usage_out.total_cost == pytest.approx(0.015)


def test_anthropic_cache_reads_and_writes_have_their_own_rates(installed):
    engine = priced_engine(
        "anthropic:claude-haiku-4-5",
        input_tokens=3_000,
        cached_input_tokens=1_000,
        cache_write_input_tokens=1_500,
        output_tokens=200,
    )

    usage_out = allm.generate(engine, USER).usage

    # claude-haiku-4-5: input 1.00, cache read 0.10, cache write 1.25, output 5.00
    assert usage_out.input_cost == pytest.approx((500 * 1.0 + 1_000 * 0.1 + 1_500 * 1.25) / 1e6)
    assert usage_out.output_cost == pytest.approx(200 * 5.0 / 1e6)


def test_a_long_context_request_is_priced_at_its_tier(installed):
    engine = priced_engine("openai:gpt-5.4", input_tokens=300_000, output_tokens=1_000)
    small = priced_engine("openai:gpt-5.4", input_tokens=272_000, output_tokens=1_000)

    long_usage = allm.generate(engine, USER).usage
    small_usage = allm.generate(small, USER).usage

    assert long_usage.input_cost == pytest.approx(300_000 * 5.0 / 1e6)
    assert long_usage.output_cost == pytest.approx(1_000 * 22.5 / 1e6)
    assert small_usage.input_cost == pytest.approx(272_000 * 2.5 / 1e6)  # "above" is strict
    assert small_usage.output_cost == pytest.approx(1_000 * 15.0 / 1e6)


def test_effective_pricing_picks_the_highest_tier_passed():
    pricing = {
        "input": 1.0,
        "output": 2.0,
        "tiers": [
            {"above_input_tokens": 100, "input": 3.0},
            {"above_input_tokens": 50, "input": 2.0, "output": 9.0},
            "not a tier",
        ],
    }

    assert effective_pricing(pricing, 10)["input"] == 1.0
    assert effective_pricing(pricing, None) is pricing
    assert effective_pricing(pricing, 60)["input"] == 2.0
    assert effective_pricing(pricing, 200)["input"] == 3.0
    assert effective_pricing(pricing, 200)["output"] == 2.0  # the chosen tier leaves it out
    assert effective_pricing({"input": 1}, 10**9) == {"input": 1}


def test_gemini_cached_tokens_without_a_write_price(installed):
    usage_in = allm.Usage(input_tokens=1_000, cached_input_tokens=800, cache_write_input_tokens=100)

    result = apply_costs(usage_in, installed.lookup("gemini", "gemini-2.5-flash"))

    # no cache_write price: written tokens cost the input rate (0.30); cache reads 0.03
    assert result.input_cost == pytest.approx((100 * 0.30 + 800 * 0.03 + 100 * 0.30) / 1e6)
    assert result.output_cost is None
    assert result.total_cost is None


def test_a_model_the_catalog_does_not_know_gets_no_cost(installed):
    engine = priced_engine("fake-model", input_tokens=1_000, output_tokens=10)

    usage_out = allm.generate(engine, USER).usage

    assert (usage_out.input_cost, usage_out.output_cost, usage_out.total_cost) == (None, None, None)


def test_image_capabilities_are_accepted_and_checked():
    good = {
        **GOOD,
        "capabilities": {
            "images_enabled": True,
            "supported_image_operations": ["generate", "edit"],
        },
    }
    catalog = BundledCatalog.from_data({"models": [good]})
    assert catalog.lookup("openai", "good").capabilities["supported_image_operations"] == [
        "generate",
        "edit",
    ]

    bad = {**GOOD, "capabilities": {"supported_image_operations": "generate"}}
    with pytest.raises(CatalogError) as info:
        BundledCatalog.from_data({"models": [bad]})
    assert "must be a list of operation names, got 'generate'" in info.value.problems[0]
