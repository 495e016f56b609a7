"""Telemetry: spans around Layer C calls, request ids, a robust and filterable bus (44-46)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

import allm
from allm import telemetry
from allm.errors import EngineError, ValidationError

# -- 44: spans -----------------------------------------------------------------------------------


def test_f044_generate_emits_nested_generate_and_stream_spans(driver, make_engine, telemetry_log):
    engine = make_engine(model="fake-model")

    response = driver.generate(engine, [allm.user("hi")])

    assert telemetry_log.names == [
        "allm.generate.start",
        "allm.stream.start",
        "allm.stream.stop",
        "allm.generate.stop",
    ]
    request_ids = {metadata["request_id"] for _, _, metadata in telemetry_log.events}
    assert request_ids == {response.request_id}
    for _, _, metadata in telemetry_log.events:
        assert metadata["engine"] is engine
        assert metadata["model"] == "fake-model"


def test_f044_span_measurements(driver, make_engine, telemetry_log):
    driver.generate(make_engine(), [allm.user("hi")])

    starts = [m for name, m, _ in telemetry_log.events if name.endswith(".start")]
    stops = [m for name, m, _ in telemetry_log.events if name.endswith(".stop")]
    for measurements in starts:
        assert isinstance(measurements["system_time"], int)
        assert isinstance(measurements["monotonic_time"], int)
    for measurements in stops:
        assert isinstance(measurements["duration"], float)
        assert measurements["duration"] >= 0
    generate_stop = telemetry_log.named("allm.generate.stop")[0][1]
    stream_stop = telemetry_log.named("allm.stream.stop")[0][1]
    assert generate_stop["duration"] >= stream_stop["duration"]


def test_f044_generate_stop_carries_the_response(driver, make_engine, telemetry_log):
    response = driver.generate(make_engine(), [allm.user("hi")])

    (_, _, metadata) = telemetry_log.named("allm.generate.stop")[0]
    assert metadata["response"] == response
    assert metadata["response"].text == "ok"


def test_f044_model_metadata_follows_the_call_keyword(make_engine, telemetry_log):
    allm.generate(make_engine(model="engine-model"), [allm.user("hi")], model="call-model")

    assert {md["model"] for _, _, md in telemetry_log.events} == {"call-model"}


def test_f044_model_metadata_falls_back_to_the_configured_model(make_engine, telemetry_log):
    allm.configure(params={"model": "config-model"})

    allm.generate(make_engine(), [allm.user("hi")])

    assert {md["model"] for _, _, md in telemetry_log.events} == {"config-model"}


def test_f044_non_streaming_generate_emits_only_the_generate_span(make_engine, telemetry_log):
    response = allm.generate(make_engine(), [allm.user("hi")], streaming=False)

    assert telemetry_log.names == ["allm.generate.start", "allm.generate.stop"]
    assert telemetry_log.events[-1][2]["response"] == response


def test_f044_preflight_failure_emits_exception_instead_of_stop(driver, telemetry_log):
    engine = allm.Engine()  # no adapter and no "provider:model": fails before any stream exists

    with pytest.raises(EngineError) as info:
        driver.generate(engine, [allm.user("hi")])

    assert info.value.reason == "missing_adapter"
    assert telemetry_log.names == [
        "allm.generate.start",
        "allm.stream.start",
        "allm.stream.exception",
        "allm.generate.exception",
    ]
    for _, measurements, metadata in telemetry_log.events[2:]:
        assert metadata["kind"] == "error"
        assert metadata["reason"] is info.value
        assert metadata["stacktrace"] is not None
        assert metadata["engine"] is engine
        assert measurements["duration"] >= 0


def test_f044_validation_failure_emits_the_stream_exception(make_engine, recorded, telemetry_log):
    engine = make_engine()

    with pytest.raises(ValidationError):
        allm.stream_generate(engine, [allm.user("hi")], temperature=9.0)

    assert telemetry_log.names == ["allm.stream.start", "allm.stream.exception"]
    assert isinstance(telemetry_log.events[-1][2]["reason"], ValidationError)
    assert recorded == []


def test_f044_a_mid_stream_error_is_data_and_the_span_stops(driver, make_engine, telemetry_log):
    engine = make_engine(
        script=[("text", "par"), ("error_event", "rate_limited"), ("finish", "stop")]
    )

    response = driver.generate(engine, [allm.user("hi")])

    assert response.finish_reason == "error"
    assert telemetry_log.names[-1] == "allm.generate.stop"
    assert "allm.generate.exception" not in telemetry_log.names


def test_f044_span_names_are_checked():
    with pytest.raises(ValueError, match="unknown telemetry span"):
        telemetry.span("genrate", {})


def test_f044_span_helper_start_stop_and_exception(telemetry_log):
    with telemetry.span("step", {"request_id": "r"}) as span:
        span.stop_metadata["step_result"] = "result"
    with pytest.raises(KeyError), telemetry.span("tool", {"request_id": "r"}):
        raise KeyError("boom")

    assert telemetry_log.names == [
        "allm.step.start",
        "allm.step.stop",
        "allm.tool.start",
        "allm.tool.exception",
    ]
    assert telemetry_log.events[1][2] == {"request_id": "r", "step_result": "result"}
    assert isinstance(telemetry_log.events[3][2]["reason"], KeyError)


def test_f044_spans_without_handlers_emit_nothing_and_still_work(monkeypatch):
    monkeypatch.setattr(telemetry, "_handlers", ())
    with telemetry.span("generate", {}) as span:
        span.stop_metadata["response"] = None
    assert span.stopped is False  # nothing was timed, nothing was emitted

    log: list[str] = []
    handler_id = telemetry.attach(lambda name, m, md: log.append(name))
    telemetry.detach(handler_id)
    with telemetry.span("generate", {}):
        pass
    assert log == []


# -- 45: the stream span -------------------------------------------------------------------------


def test_f045_stream_span_stops_when_the_stream_is_returned(make_engine, recorded, telemetry_log):
    stream = allm.stream_generate(make_engine(), [allm.user("hi")])

    assert telemetry_log.names == ["allm.stream.start", "allm.stream.stop"]
    assert telemetry_log.events[-1][2]["response"] is None
    assert recorded == []  # the stream is lazy: the adapter has not started yet

    events = list(stream)

    assert events
    assert len(recorded) == 1
    assert telemetry_log.names == ["allm.stream.start", "allm.stream.stop"]


def test_f045_async_stream_span_stops_when_the_stream_is_returned(
    make_engine, recorded, telemetry_log
):
    async def run() -> tuple[list[str], Any]:
        stream = await allm.astream_generate(make_engine(), [allm.user("hi")])
        names = list(telemetry_log.names)
        response = await stream.collect()
        return names, response

    names_at_return, response = anyio.run(run)

    assert names_at_return == ["allm.stream.start", "allm.stream.stop"]
    assert telemetry_log.events[1][2]["response"] is None
    assert response.text == "ok"
    assert telemetry_log.names == names_at_return


def test_f045_stream_span_metadata(driver, make_engine, telemetry_log):
    engine = make_engine(model="m")

    driver.events(engine, [allm.user("hi")], request_id="rid-45")

    start, stop = telemetry_log.events
    assert start[2] == {"request_id": "rid-45", "engine": engine, "model": "m"}
    assert stop[2] == {"request_id": "rid-45", "engine": engine, "model": "m", "response": None}


# -- 46: request ids -----------------------------------------------------------------------------


def test_f046_caller_request_id_reaches_telemetry_adapter_and_response(
    driver, make_engine, recorded, telemetry_log
):
    response = driver.generate(make_engine(), [allm.user("hi")], request_id="caller-req-1")

    assert response.request_id == "caller-req-1"
    assert recorded[0][1].request_id == "caller-req-1"
    assert {md["request_id"] for _, _, md in telemetry_log.events} == {"caller-req-1"}


def test_f046_caller_request_id_on_streams(driver, make_engine, recorded):
    response = driver.collect(make_engine(), [allm.user("hi")], request_id="caller-req-2")

    assert response.request_id == "caller-req-2"
    assert recorded[0][1].request_id == "caller-req-2"


def test_f046_caller_request_id_on_the_non_streaming_path(make_engine, recorded, telemetry_log):
    response = allm.generate(
        make_engine(), [allm.user("hi")], streaming=False, request_id="caller-req-3"
    )

    assert response.request_id == "caller-req-3"
    assert recorded[0][1].request_id == "caller-req-3"
    assert {md["request_id"] for _, _, md in telemetry_log.events} == {"caller-req-3"}


def test_f046_generated_request_ids_are_fresh_per_call(recorded):
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"scripts": [[("text", "a")], [("text", "b")]], "record": recorded},
    )

    first = allm.generate(engine, [allm.user("hi")])
    second = allm.generate(engine, [allm.user("hi")])

    assert first.request_id and second.request_id
    assert first.request_id != second.request_id
    assert [call.request_id for _, call in recorded] == [first.request_id, second.request_id]


@pytest.mark.parametrize("bad", ["", 42])
def test_f046_an_invalid_request_id_is_a_configuration_error(make_engine, bad):
    with pytest.raises(allm.errors.ConfigurationError):
        allm.generate(make_engine(), [allm.user("hi")], request_id=bad)


# -- the bus: failing handlers, detach, filters --------------------------------------------------


def test_f044_a_failing_handler_does_not_break_the_call(driver, make_engine, telemetry_log, caplog):
    def broken(name: str, measurements: Any, metadata: Any) -> None:
        raise RuntimeError("observer bug")

    handler_id = telemetry.attach(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="allm.telemetry"):
            response = driver.generate(make_engine(), [allm.user("hi")])
    finally:
        telemetry.detach(handler_id)

    assert response.text == "ok"
    assert len(telemetry_log.events) == 4  # the other handler still saw everything
    assert any("observer bug" in (r.exc_text or "") for r in caplog.records)
    assert len([r for r in caplog.records if r.name == "allm.telemetry"]) == 4


def test_f044_detach_stops_delivery(make_engine):
    log: list[str] = []
    handler_id = telemetry.attach(lambda name, m, md: log.append(name))
    before = telemetry.handlers()

    allm.generate(make_engine(), [allm.user("hi")])
    seen = len(log)
    assert telemetry.detach(handler_id) is True
    allm.generate(make_engine(), [allm.user("hi")])

    assert seen == 4
    assert len(log) == 4
    assert telemetry.handlers() == before - 1
    assert telemetry.detach(handler_id) is False


def test_f044_attach_with_events_filters(driver, make_engine):
    log: list[tuple[str, Any]] = []
    handler_id = telemetry.attach(
        lambda name, m, md: log.append((name, md.get("response"))),
        events=["allm.generate.stop", "allm.adapter.retry"],
    )
    try:
        response = driver.generate(make_engine(), [allm.user("hi")])
    finally:
        telemetry.detach(handler_id)

    assert log == [("allm.generate.stop", response)]


def test_f044_handler_ids_are_distinct_and_handlers_must_be_callable():
    first = telemetry.attach(lambda *args: None)
    second = telemetry.attach(lambda *args: None)
    try:
        assert first != second
        with pytest.raises(TypeError):
            telemetry.attach("not callable")  # type: ignore[arg-type]
    finally:
        telemetry.detach(first)
        telemetry.detach(second)


def test_f044_execute_delivers_plain_events(telemetry_log):
    telemetry.execute("allm.custom.event", {"n": 1}, {"k": "v"})

    assert telemetry_log.events == [("allm.custom.event", {"n": 1}, {"k": "v"})]
