"""FEATURES 44-50, each with no catalog and with the bundled catalog installed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.observability.support import USER, fake_engine, two_tool_chat

import allm
from allm.catalog import BundledCatalog
from allm.errors import ValidationError
from allm.providers.fake import Fake, finish, text, usage

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}


@pytest.fixture(params=["no catalog", "bundled catalog"])
def catalog(request: pytest.FixtureRequest) -> BundledCatalog | None:
    if request.param == "no catalog":
        return None
    installed = BundledCatalog()
    allm.configure(catalog=installed)
    return installed


def tool() -> allm.Tool:
    return allm.tool(name="t", description="d", schema={"type": "object"}, handler=lambda a: "T")


# 44 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["generate", "stream_generate", "step", "chat", "stream"])
def test_f044_every_layer_c_call_emits_spans_with_request_id_engine_and_model(
    catalog, recorder, api
):
    engine = two_tool_chat(model="openai:gpt-4.1") if api in ("step", "chat", "stream") else None
    engine = engine or fake_engine([[text("x")]], model="openai:gpt-4.1")

    value = getattr(allm, api)(engine, USER, request_id="req-44")
    if api in ("stream_generate", "stream"):
        list(value)

    starts = [(n, m) for n, _, m in recorder.events if n.endswith(".start")]
    stops = [(n, m) for n, _, m in recorder.events if n.endswith(".stop")]
    assert starts and len(starts) == len(stops)
    outer = {"generate": "generate", "stream_generate": "stream", "step": "step"}.get(api, "chat")
    assert starts[0][0] == f"allm.{outer}.start"
    for name, metadata in starts:
        assert metadata["request_id"] == "req-44"
        assert metadata["engine"] is engine
        if not name.startswith("allm.tool"):
            assert metadata["model"] in ("openai:gpt-4.1", "gpt-4.1")


def test_f044_exceptions_emit_exception_instead_of_stop(catalog, recorder):
    with pytest.raises(ValidationError):
        allm.chat(fake_engine([[text("x")]]), USER, temperature=5.0)

    assert recorder.names[0] == "allm.chat.start"
    assert recorder.names[-1] == "allm.chat.exception"
    assert not any(name.endswith(".stop") for name in recorder.names)


# 45 -------------------------------------------------------------------------------------------


def test_f045_the_stream_span_stops_when_the_stream_is_returned(catalog, recorder):
    stream = allm.stream_generate(fake_engine([[text("x")]]), USER)

    assert recorder.names == ["allm.stream.start", "allm.stream.stop"]
    assert recorder.events[-1][2]["response"] is None
    assert stream.collect().text == "x"


# 46 -------------------------------------------------------------------------------------------


def test_f046_a_callers_request_id_reaches_telemetry_handlers_and_responses(catalog, recorder):
    seen: list[str] = []
    handler = allm.tool(
        name="t",
        description="d",
        schema={"type": "object"},
        handler=lambda arguments, ctx: seen.append(ctx.request_id) or "ok",
    )
    engine = fake_engine(
        [
            [("tool_call", {"id": "c1", "name": "t", "arguments": {}}), finish("tool_calls")],
            [text("x")],
        ],
        [handler],
    )

    result = allm.chat(engine, USER, request_id="req-46")

    assert seen == ["req-46"]
    assert {step.response.request_id for step in result.steps} == {"req-46"}
    assert {metadata["request_id"] for _, _, metadata in recorder.events} == {"req-46"}


# 47 -------------------------------------------------------------------------------------------


def test_f047_without_a_catalog_entry_nothing_is_rejected_and_costs_stay_none(catalog):
    png = allm.ImagePart.from_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png")
    engine = fake_engine(
        [[text("ok"), usage(input_tokens=10, output_tokens=5), finish()]], [tool()], model="weak"
    )

    response = allm.generate(
        engine,
        [allm.user([allm.TextPart("hi"), png])],
        response_format=allm.json_schema("a", SCHEMA),
        max_tokens=10**6,
    )

    assert response.text == "ok"
    assert (response.usage.input_cost, response.usage.total_cost) == (None, None)


# 48 -------------------------------------------------------------------------------------------


def test_f048_rejections_come_from_what_the_catalog_says(catalog):
    tools_off = allm.ModelRef("openai", "no-tools", capabilities={"tools": False})
    engine = fake_engine([[text("ok")], [text("ok")]], [tool()])

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, USER, model=tools_off)
    assert info.value.errors == ((("tools",), "tools_disabled"),)

    json_off = fake_engine([[text("ok")], [text("ok")]], model="openai:gpt-4o-2024-05-13")
    if catalog is None:
        assert allm.generate(json_off, USER, response_format=allm.json_schema("a", SCHEMA)).text
    else:
        with pytest.raises(ValidationError) as info:
            allm.generate(json_off, USER, response_format=allm.json_schema("a", SCHEMA))
        assert info.value.errors == ((("response_format",), "json_native_disabled"),)
    assert allm.generate(json_off, USER, response_format={"type": "json_object"}).text == "ok"


# 49 -------------------------------------------------------------------------------------------


def test_f049_requires_structured_finalize_rewrites_the_request(catalog):
    recorded: list[Any] = []

    class Finalizing(Fake):
        def requires_structured_finalize(self, request: Any) -> bool:
            return bool(request.tools) and request.response_format is not None

    engine = allm.Engine(
        adapter=Finalizing(),
        model="openai:gpt-4.1",
        tools=[tool()],
        adapter_opts={"script": [text("{}")], "record": recorded},
    )

    allm.generate(engine, USER, response_format=allm.json_schema("a", SCHEMA))

    assert recorded[0][0].structured_finalize is True


# 50 -------------------------------------------------------------------------------------------


def test_f050_costs_per_million_and_never_overwritten(catalog):
    engine = fake_engine(
        [
            [text("a"), usage(input_tokens=2_000, output_tokens=1_000), finish()],
            [text("b"), usage(input_tokens=2_000, output_tokens=1_000, input_cost=0.5), finish()],
        ],
        model="openai:gpt-4.1",
    )

    fresh = allm.generate(engine, USER).usage
    kept = allm.generate(engine, USER).usage

    if catalog is None:
        assert (fresh.input_cost, fresh.output_cost, fresh.total_cost) == (None, None, None)
        assert (kept.input_cost, kept.output_cost) == (0.5, None)
    else:
        assert fresh.input_cost == pytest.approx(2_000 * 2.0 / 1e6)
        assert fresh.output_cost == pytest.approx(1_000 * 8.0 / 1e6)
        assert fresh.total_cost == pytest.approx(0.012)
        assert kept.input_cost == 0.5
        assert kept.total_cost == pytest.approx(0.5 + 0.008)
