"""The telemetry bus: spans of §14 with parents, tracers, annotations, and the ``allm`` logger."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.observability.support import USER, fake_engine, two_tool_chat

import allm
from allm import telemetry
from allm.providers.fake import finish, text, tool_call, usage


class ListTracer:
    """Records every span it is shown, with its parent's name at the start."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str | None]] = []
        self.ended: list[tuple[str, Any, BaseException | None]] = []
        self.annotations: list[dict[str, Any]] = []

    def start_span(self, span: telemetry.Span) -> str:
        self.started.append((span.name, None if span.parent is None else span.parent.name))
        return f"state-{len(self.started)}"

    def end_span(self, span: telemetry.Span, state: Any, error: BaseException | None) -> None:
        self.ended.append((span.name, state, error))
        self.annotations.append(dict(span.annotations))


@pytest.fixture
def tracer() -> Any:
    added = ListTracer()
    telemetry.add_tracer(added)
    try:
        yield added
    finally:
        telemetry.remove_tracer(added)


def test_span_names_are_those_of_the_design():
    names = {"generate", "stream", "step", "chat", "tool", "image", "embed", "moderate", "mcp"}
    assert names | {"synthesize", "transcribe", "classify", "batch"} == set(telemetry.SPAN_NAMES)
    assert telemetry.span("image", {}).name == "image"  # valid ahead of the images issue
    with pytest.raises(ValueError, match="unknown telemetry span"):
        telemetry.span("images", {})


def test_tracers_see_chat_step_and_tool_spans_with_their_parents(tracer):
    allm.chat(two_tool_chat(), USER)

    assert tracer.started[0] == ("chat", None)
    assert tracer.started.count(("step", "chat")) == 2
    assert tracer.started.count(("tool", "step")) == 2
    assert [name for name, _, _ in tracer.ended].count("tool") == 2
    assert tracer.ended[-1][0] == "chat"
    assert all(error is None for _, _, error in tracer.ended)


def test_a_stream_inside_a_generate_is_its_child_and_hands_it_the_request(tracer):
    response = allm.generate(
        fake_engine([[text("x")]]),
        USER,
        temperature=0.25,
        provider_options={"fake": {"user": "u3"}},
    )

    assert response.text == "x"
    assert tracer.started == [("generate", None), ("stream", "generate")]
    stream_notes, generate_notes = tracer.annotations
    assert stream_notes["request"].temperature == 0.25
    assert stream_notes["params"] == {"user": "u3"}
    assert stream_notes["provider"] == "fake"
    assert generate_notes["request"] is stream_notes["request"]


def test_annotations_never_reach_handlers(recorder, tracer):
    allm.generate(fake_engine([[text("x")]]), USER)

    for _, _, metadata in recorder.events:
        assert "request" not in metadata
        assert "params" not in metadata
    assert tracer.annotations[-1]["provider"] == "fake"


def test_a_failing_tracer_is_logged_and_never_breaks_the_call(caplog):
    class BrokenStart(ListTracer):
        def start_span(self, span: telemetry.Span) -> str:
            raise RuntimeError("start bug")

    class BrokenEnd(ListTracer):
        def end_span(self, span: telemetry.Span, state: Any, error: Any) -> None:
            raise RuntimeError("end bug")

    broken_start, broken_end = BrokenStart(), BrokenEnd()
    telemetry.add_tracer(broken_start)
    telemetry.add_tracer(broken_end)
    try:
        with caplog.at_level(logging.ERROR, logger="allm.telemetry"):
            assert allm.generate(fake_engine([[text("x")]]), USER).text == "x"
    finally:
        telemetry.remove_tracer(broken_start)
        telemetry.remove_tracer(broken_end)

    messages = [record.getMessage() for record in caplog.records]
    assert any("failed to start generate" in message for message in messages)
    assert any("failed to end generate" in message for message in messages)
    assert broken_start.ended == []  # a span the tracer failed to start is not ended on it
    assert len(broken_end.started) == 2


def test_add_and_remove_tracer():
    tracer = ListTracer()
    before = telemetry.tracers()

    telemetry.add_tracer(tracer)
    telemetry.add_tracer(tracer)  # once only
    assert telemetry.tracers() == before + 1
    assert telemetry.remove_tracer(tracer) is True
    assert telemetry.remove_tracer(tracer) is False
    assert telemetry.tracers() == before
    with pytest.raises(TypeError):
        telemetry.add_tracer(object())  # type: ignore[arg-type]


def test_a_tracer_removed_mid_span_still_sees_the_end():
    tracer = ListTracer()
    telemetry.add_tracer(tracer)
    with telemetry.span("chat", {}) as span:
        telemetry.remove_tracer(tracer)
        assert span.tracer_state(tracer) == "state-1"
    with telemetry.span("chat", {}):
        pass

    assert tracer.ended == [("chat", "state-1", None)]


def test_current_span_and_parents(tracer):
    assert telemetry.current_span() is None
    with telemetry.span("chat", {}) as outer:
        assert telemetry.current_span() is outer
        with telemetry.span("tool", {}) as inner:
            assert inner.parent is outer
            assert telemetry.current_span() is inner
        assert telemetry.current_span() is outer
    assert telemetry.current_span() is None
    assert outer.observed and outer.duration is not None and outer.duration >= 0


def test_an_ended_parent_is_skipped(tracer):
    outer = telemetry.span("chat", {})
    outer.__enter__()
    inner = telemetry.span("step", {})
    inner.__enter__()
    outer.__exit__(None, None, None)  # out of order, as an abandoned stream may do

    with telemetry.span("tool", {}) as late:
        assert late.parent is inner
    inner.__exit__(None, None, None)
    with telemetry.span("tool", {}) as after:
        assert after.parent is None
    assert telemetry.current_span() is None


def test_unobserved_spans_cost_nothing_and_record_nothing():
    span = telemetry.span("generate", {})
    with span:
        span.annotate(request="r")
    assert span.observed is False
    assert span.annotations == {}
    assert span.parent is None
    assert span.start_ns == 0
    assert span.tracer_state(object()) is None  # type: ignore[arg-type]


# -- the allm logger -----------------------------------------------------------------------------


def debug_lines(caplog: Any) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "allm" and r.levelno == logging.DEBUG
    ]


def test_debug_log_has_one_line_per_request(caplog):
    engine = fake_engine([[text("x"), usage(input_tokens=5, output_tokens=2), finish()]])

    with caplog.at_level(logging.DEBUG, logger="allm"):
        allm.generate(engine, USER, request_id="req-log")

    (line,) = debug_lines(caplog)
    assert line.startswith("allm generate request_id=req-log provider=fake model=fake-model")
    assert "finish=stop input_tokens=5 output_tokens=2 error=None" in line


def test_debug_log_of_a_chat_is_one_line_per_step(caplog):
    with caplog.at_level(logging.DEBUG, logger="allm"):
        allm.chat(two_tool_chat(), USER)

    lines = debug_lines(caplog)
    assert len(lines) == 2
    assert all(line.startswith("allm step ") for line in lines)
    assert "finish=tool_calls input_tokens=100" in lines[0]


def test_debug_log_of_a_stream_and_of_failures(caplog):
    with caplog.at_level(logging.DEBUG, logger="allm"):
        allm.stream_generate(fake_engine([[text("x")]]), USER).collect()
        allm.generate(fake_engine([[("error_event", "rate_limited")]]), USER)
        with pytest.raises(allm.ValidationError):
            allm.generate(fake_engine([[text("x")]]), USER, temperature=9.0)

    stream, failed, refused = debug_lines(caplog)
    assert stream.startswith("allm stream ")
    assert "finish=error" in failed and "error=RateLimitError:rate_limited" in failed
    assert refused.endswith("error=ValidationError reason=invalid_request")


def test_debug_log_has_one_line_per_retry(caplog):
    engine = fake_engine(
        [[("ok", {"text": "hi"})]],
        adapter_opts={"retry_until_call": 3},
        retry={"base_delay_ms": 1, "jitter_ms": 0},
    )

    with caplog.at_level(logging.DEBUG, logger="allm"):
        allm.generate(engine, USER, streaming=False, request_id="req-r")

    retries = [line for line in debug_lines(caplog) if line.startswith("allm retry")]
    assert retries == [
        "allm retry request_id=req-r provider=fake attempt=1 delay_ms=1 reason=timeout",
        "allm retry request_id=req-r provider=fake attempt=2 delay_ms=2 reason=timeout",
    ]


def test_keys_and_content_are_never_logged(caplog):
    secret_key = "sk-test-THIS-IS-A-KEY"
    secret_text = "my card number is 4111"
    engine = fake_engine(
        [
            [tool_call(id="c1", name="a", arguments={"card": secret_text}), finish("tool_calls")],
            [text(secret_text), finish()],
        ],
        [allm.tool(name="a", description="d", schema={"type": "object"}, handler=lambda a: a)],
    )

    with caplog.at_level(logging.DEBUG, logger="allm"):
        allm.chat(engine, [allm.user(secret_text)], api_key=secret_key)
        allm.generate(
            fake_engine([[("error_event", "rate_limited", {"message": secret_text})]]), USER
        )

    assert debug_lines(caplog)
    for record in caplog.records:
        assert secret_key not in record.getMessage()
        assert secret_text not in record.getMessage()


def test_nothing_is_logged_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="allm"):
        allm.generate(fake_engine([[text("x")]]), USER)

    assert [r for r in caplog.records if r.name.startswith("allm")] == []
