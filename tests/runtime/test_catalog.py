"""Model catalog: capability pre-flight, structured-finalize rewrite, cost population (47-50)."""

from __future__ import annotations

from typing import Any

import pytest

import allm
from allm.catalog import ModelCatalog, apply_costs, check_capabilities, resolve_model_ref
from allm.data.models import ModelRef
from allm.errors import ValidationError
from allm.providers.fake import Fake, finish, text, usage

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class TinyCatalog:
    """A catalog knowing a handful of fake models."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str | None, str]] = []
        self.models = {
            "no-tools": ModelRef("fake", "no-tools", capabilities={"tools": False}),
            "no-tools-nested": ModelRef(
                "fake", "no-tools-nested", capabilities={"tools": {"enabled": False}}
            ),
            "no-json": ModelRef("fake", "no-json", capabilities={"json_native": False}),
            "weak": ModelRef(
                "fake",
                "weak",
                capabilities={"tools": False, "json_native": False, "vision": False},
                limits={"output": 100},
            ),
            "capable": ModelRef(
                "fake",
                "capable",
                capabilities={"tools": True, "json_native": True, "vision": True},
            ),
            "priced": ModelRef(
                "fake",
                "priced",
                pricing={"input": 2.0, "cached_input": 0.5, "cache_write": 4.0, "output": 8.0},
            ),
            "input-only": ModelRef("fake", "input-only", pricing={"input": 1.0}),
        }

    def lookup(self, provider: str | None, model_id: str) -> ModelRef | None:
        self.lookups.append((provider, model_id))
        return self.models.get(model_id)


@pytest.fixture
def catalog() -> TinyCatalog:
    installed = TinyCatalog()
    allm.configure(catalog=installed)
    return installed


def _tool(name: str = "lookup") -> allm.Tool:
    return allm.tool(name=name, description="look up", schema={"type": "object"})


def _image_message() -> allm.Message:
    return allm.user([allm.TextPart("what is this?"), allm.ImagePart.from_bytes(PNG, "image/png")])


# -- 47: no catalog ------------------------------------------------------------------------------


def test_f047_without_a_catalog_nothing_is_rejected(driver, make_engine, recorded):
    engine = make_engine(
        model="weak",
        tools=[_tool()],
        script=[text("ok"), usage(input_tokens=10, output_tokens=5), finish()],
    )

    response = driver.generate(
        engine,
        [_image_message()],
        response_format=allm.json_schema("answer", SCHEMA),
        max_tokens=100_000,
    )

    assert response.text == "ok"
    assert len(recorded) == 1
    assert recorded[0][0].model == "weak"


def test_f047_without_a_catalog_costs_stay_none(driver, make_engine):
    engine = make_engine(script=[text("ok"), usage(input_tokens=10, output_tokens=5), finish()])

    response = driver.generate(engine, [allm.user("hi")])

    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 5)
    assert response.usage.input_cost is None
    assert response.usage.output_cost is None
    assert response.usage.total_cost is None


def test_f047_an_unknown_model_is_not_rejected(catalog, driver, make_engine):
    engine = make_engine(model="not-in-catalog", tools=[_tool()])

    assert driver.generate(engine, [allm.user("hi")]).text == "ok"
    assert catalog.lookups == [("fake", "not-in-catalog")]


def test_f047_check_capabilities_without_a_ref_accepts_everything():
    request = allm.request([_image_message()], tools=[_tool()], max_tokens=10**9)

    assert check_capabilities(request, None) is None
    assert resolve_model_ref("weak", "fake") is None  # no catalog installed


def test_f047_a_catalog_is_a_model_catalog():
    assert isinstance(TinyCatalog(), ModelCatalog)


# -- 48: rejections ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["no-tools", "no-tools-nested"])
def test_f048_tools_on_a_tools_disabled_model_are_rejected(
    catalog, driver, make_engine, recorded, model
):
    engine = make_engine(model=model, tools=[_tool()])

    with pytest.raises(ValidationError) as info:
        driver.generate(engine, [allm.user("hi")])

    assert info.value.reason == "unsupported_capability"
    assert info.value.errors == ((("tools",), "tools_disabled"),)
    assert recorded == []  # rejected before the adapter ran


def test_f048_tools_disabled_model_without_tools_is_fine(catalog, driver, make_engine):
    engine = make_engine(model="no-tools")

    assert driver.generate(engine, [allm.user("hi")]).text == "ok"


def test_f048_call_keyword_tools_are_checked_too(catalog, make_engine):
    engine = make_engine(model="no-tools")

    with pytest.raises(ValidationError) as info:
        allm.stream_generate(engine, [allm.user("hi")], tools=[_tool()])

    assert info.value.errors == ((("tools",), "tools_disabled"),)


def test_f048_json_schema_against_a_non_json_native_model_is_rejected(catalog, driver, make_engine):
    engine = make_engine(model="no-json")

    with pytest.raises(ValidationError) as info:
        driver.generate(
            engine, [allm.user("hi")], response_format=allm.json_schema("answer", SCHEMA)
        )

    assert info.value.reason == "unsupported_capability"
    assert info.value.errors == ((("response_format",), "json_native_disabled"),)


def test_f048_json_object_is_allowed_on_a_non_json_native_model(
    catalog, driver, make_engine, recorded
):
    engine = make_engine(model="no-json")

    response = driver.generate(engine, [allm.user("hi")], response_format={"type": "json_object"})

    assert response.text == "ok"
    assert recorded[0][0].response_format == {"type": "json_object"}


def test_f048_several_problems_are_listed_together(catalog, driver, make_engine):
    engine = make_engine(model="weak", tools=[_tool()])

    with pytest.raises(ValidationError) as info:
        driver.generate(
            engine,
            [allm.user("hi"), _image_message()],
            response_format=allm.json_schema("answer", SCHEMA),
            max_tokens=101,
        )

    assert set(info.value.errors) == {
        (("tools",), "tools_disabled"),
        (("response_format",), "json_native_disabled"),
        (("messages", 1, "content"), "vision_disabled"),
        (("max_tokens",), "exceeds_model_limit"),
    }
    assert "tools_disabled" in info.value.message
    assert "vision_disabled" in info.value.message


def test_f048_a_capable_model_accepts_everything(catalog, driver, make_engine):
    engine = make_engine(model="capable", tools=[_tool()])

    response = driver.generate(
        engine,
        [_image_message()],
        response_format=allm.json_schema("answer", SCHEMA),
        max_tokens=100_000,
    )

    assert response.text == "ok"


def test_f048_max_tokens_at_the_limit_is_fine(catalog, make_engine):
    engine = make_engine(model="weak")

    assert allm.generate(engine, [allm.user("hi")], max_tokens=100).text == "ok"


def test_f048_the_catalog_is_asked_with_the_provider_and_the_split_model_id(catalog):
    engine = allm.Engine(adapter_opts={"script": [text("ok")]})

    with pytest.raises(ValidationError):
        allm.generate(engine, [allm.user("hi")], model="fake:no-tools", tools=[_tool()])

    assert catalog.lookups == [("fake", "no-tools")]


def test_f048_a_model_ref_passes_through_without_the_catalog(make_engine):
    ref = ModelRef("fake", "direct", capabilities={"tools": False})
    request = allm.request([allm.user("hi")], tools=[_tool()])

    assert resolve_model_ref(ref, "fake") is ref
    with pytest.raises(ValidationError) as info:
        check_capabilities(request, ref)
    assert info.value.errors == ((("tools",), "tools_disabled"),)


def test_f048_a_catalog_lookup_that_is_not_a_model_ref_counts_as_unknown():
    class Odd:
        def lookup(self, provider: str | None, model_id: str) -> Any:
            return {"tools": False}

    allm.configure(catalog=Odd())

    assert resolve_model_ref("anything", "fake") is None


# -- 49: structured finalize rewrite ---------------------------------------------------------------


class FinalizingFake(Fake):
    """A Fake that asks for the two-pass structured output whenever tools are present."""

    def __init__(self, answer: bool = True) -> None:
        super().__init__()
        self.answer = answer
        self.asked: list[Any] = []

    def requires_structured_finalize(self, request: Any) -> bool:
        self.asked.append(request)
        return self.answer and bool(request.tools)


def test_f049_requires_structured_finalize_rewrites_the_request(driver, recorded):
    adapter = FinalizingFake()
    engine = allm.Engine(
        adapter=adapter,
        adapter_opts={"script": [text("{}"), finish()], "record": recorded},
        tools=[_tool()],
    )

    driver.generate(engine, [allm.user("hi")], response_format=allm.json_schema("a", SCHEMA))

    request, _ = recorded[0]
    assert request.structured_finalize is True
    assert len(adapter.asked) == 1
    assert adapter.asked[0].structured_finalize is False


def test_f049_no_rewrite_when_the_adapter_says_no(driver, recorded):
    adapter = FinalizingFake(answer=False)
    engine = allm.Engine(
        adapter=adapter,
        adapter_opts={"script": [text("{}"), finish()], "record": recorded},
        tools=[_tool()],
    )

    driver.generate(engine, [allm.user("hi")], response_format=allm.json_schema("a", SCHEMA))

    assert recorded[0][0].structured_finalize is False
    assert len(adapter.asked) == 1


def test_f049_an_already_flagged_request_is_not_asked_again(recorded):
    adapter = FinalizingFake()
    engine = allm.Engine(
        adapter=adapter,
        adapter_opts={"script": [text("{}"), finish()], "record": recorded},
        tools=[_tool()],
    )

    allm.generate(
        engine,
        [allm.user("hi")],
        response_format=allm.json_schema("a", SCHEMA),
        structured_finalize=True,
    )

    assert recorded[0][0].structured_finalize is True
    assert adapter.asked == []


def test_f049_rewrite_also_on_the_non_streaming_path(recorded):
    engine = allm.Engine(
        adapter=FinalizingFake(),
        adapter_opts={"script": [text("{}"), finish()], "record": recorded},
        tools=[_tool()],
    )

    allm.generate(
        engine,
        [allm.user("hi")],
        streaming=False,
        response_format=allm.json_schema("a", SCHEMA),
    )

    assert recorded[0][0].structured_finalize is True


def test_f049_the_plain_fake_never_rewrites(make_engine, recorded):
    engine = make_engine(tools=[_tool()])

    allm.generate(engine, [allm.user("hi")], response_format=allm.json_schema("a", SCHEMA))

    assert not hasattr(Fake(), "requires_structured_finalize")
    assert recorded[0][0].structured_finalize is False


# -- 50: costs -----------------------------------------------------------------------------------


def test_f050_costs_are_per_million_tokens(catalog, driver, make_engine):
    engine = make_engine(
        model="priced",
        script=[text("ok"), usage(input_tokens=1_000, output_tokens=500), finish()],
    )

    response = driver.generate(engine, [allm.user("hi")])

    assert response.usage.input_cost == pytest.approx(2.0 * 1_000 / 1e6)
    assert response.usage.output_cost == pytest.approx(8.0 * 500 / 1e6)
    assert response.usage.total_cost == pytest.approx(0.002 + 0.004)


def test_f050_cached_input_tokens_are_priced_at_their_own_rate(catalog, driver, make_engine):
    engine = make_engine(
        model="priced",
        script=[
            text("ok"),
            usage(
                input_tokens=1_000,
                cached_input_tokens=400,
                cache_write_input_tokens=100,
                output_tokens=500,
            ),
            finish(),
        ],
    )

    response = driver.generate(engine, [allm.user("hi")])

    plain, cached, written = 500, 400, 100
    expected_input = (2.0 * plain + 0.5 * cached + 4.0 * written) / 1e6
    assert response.usage.input_cost == pytest.approx(expected_input)
    assert response.usage.total_cost == pytest.approx(expected_input + 8.0 * 500 / 1e6)


def test_f050_costs_on_the_non_streaming_path(catalog, make_engine):
    engine = make_engine(
        model="priced",
        script=[text("ok"), usage(input_tokens=1_000, output_tokens=1_000), finish()],
    )

    response = allm.generate(engine, [allm.user("hi")], streaming=False)

    assert response.usage.total_cost == pytest.approx(0.010)


def test_f050_existing_costs_are_never_overwritten(catalog, driver, make_engine):
    engine = make_engine(
        model="priced",
        script=[
            text("ok"),
            usage(input_tokens=1_000, output_tokens=500, input_cost=0.5),
            finish(),
        ],
    )

    response = driver.generate(engine, [allm.user("hi")])

    assert response.usage.input_cost == 0.5
    assert response.usage.output_cost == pytest.approx(0.004)
    assert response.usage.total_cost == pytest.approx(0.504)


def test_f050_apply_costs_keeps_every_existing_cost():
    ref = ModelRef("fake", "p", pricing={"input": 2.0, "output": 8.0})
    given = allm.Usage(
        input_tokens=1_000, output_tokens=1_000, input_cost=1.0, output_cost=2.0, total_cost=99.0
    )

    assert apply_costs(given, ref) is given


def test_f050_partial_pricing_populates_partially(catalog, make_engine):
    engine = make_engine(
        model="input-only",
        script=[text("ok"), usage(input_tokens=2_000_000, output_tokens=10), finish()],
    )

    response = allm.generate(engine, [allm.user("hi")])

    assert response.usage.input_cost == pytest.approx(2.0)
    assert response.usage.output_cost is None
    assert response.usage.total_cost is None


def test_f050_no_pricing_or_no_tokens_means_no_costs():
    unpriced = ModelRef("fake", "free")
    priced = ModelRef("fake", "p", pricing={"input": 1.0, "output": 1.0})
    empty = allm.Usage()

    assert apply_costs(allm.Usage(input_tokens=5), unpriced).input_cost is None
    assert apply_costs(empty, priced) is empty
    assert apply_costs(allm.Usage(input_tokens=5), None).input_cost is None


def test_f050_a_model_without_pricing_in_the_catalog_keeps_costs_none(catalog, make_engine):
    engine = make_engine(
        model="capable",
        script=[text("ok"), usage(input_tokens=10, output_tokens=10), finish()],
    )

    response = allm.generate(engine, [allm.user("hi")])

    assert response.usage.input_cost is None
    assert response.usage.total_cost is None
