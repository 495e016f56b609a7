"""Every Gemini wire transcript, replayed whole, byte by byte and at its chunk boundaries, through
the sync and the async API: the folded Response matches expect.json and the request the adapter
built matches request.json (URL, method, auth header, body as a subset)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Driver
from tests.providers.gemini.support import KEY, engine_for, request_from_wire
from tests.providers.wire import Case, case_names, check_response, is_subset, load

import allm
from allm.events import (
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    TextCompleted,
    ToolCallCompleted,
)

DIRECTORY = "gemini"
SHARED = {
    "error_400_invalid_argument",
    "error_429_resource_exhausted",
    "max_tokens_stream",
    "text_nonstream",
    "text_stream",
    "tool_call_stream",
}


def _params() -> list[Any]:
    params = []
    for name in case_names(DIRECTORY):
        case = load(DIRECTORY, name)
        hows = ["whole", "bytewise"] + (["boundaries"] if case.boundaries else [])
        for how in hows:
            params.append(pytest.param(name, how, id=f"{name}-{how}"))
    return params


def _run(driver: Driver, case: Case, how: str) -> allm.Response:
    engine = engine_for(case, how)
    request = request_from_wire(case.request["body"])
    return driver.generate(engine, request, api_key=KEY, streaming=case.expect["stream"])


def test_the_directory_has_the_shared_cases_and_at_least_twelve_of_our_own() -> None:
    names = set(case_names(DIRECTORY))
    assert names >= SHARED
    assert len(names - SHARED) >= 12
    for name in names - SHARED:
        notes = load(DIRECTORY, name).expect["notes"]
        assert any("FORMATS.md" in note or "SOURCES" in note for note in notes), name


@pytest.mark.parametrize(("name", "how"), _params())
def test_transcript_folds_to_its_expectation(driver: Driver, name: str, how: str) -> None:
    case = load(DIRECTORY, name)
    response = _run(driver, case, how)
    assert check_response(response, case.expect) == []


@pytest.mark.parametrize("name", case_names(DIRECTORY))
def test_request_matches_the_recorded_request(driver: Driver, name: str) -> None:
    case = load(DIRECTORY, name)
    _run(driver, case, "whole")
    assert len(case.seen) == 1
    sent = case.seen[-1]
    assert sent.method == case.request["method"]
    assert str(sent.url) == case.request["url"]
    assert "key=" not in str(sent.url)
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.headers["content-type"] == "application/json"
    assert is_subset(case.request["body"], case.sent_body()) == []


@pytest.mark.parametrize(
    "name", [n for n in case_names(DIRECTORY) if load(DIRECTORY, n).expect["stream"]]
)
def test_stream_events_follow_the_grammar(name: str) -> None:
    case = load(DIRECTORY, name)
    engine = engine_for(case, "bytewise")
    events = list(
        allm.stream_generate(
            engine, request_from_wire(case.request["body"]), api_key=KEY, include_raw_chunks=True
        )
    )
    assert isinstance(events[0], MessageStarted)
    terminal = events[-1]
    assert isinstance(terminal, MessageCompleted | ErrorEvent)
    assert sum(isinstance(e, MessageCompleted | ErrorEvent) for e in events) == 1
    completed_text = [e for e in events if isinstance(e, TextCompleted)]
    assert len(completed_text) <= 1
    if completed_text:
        assert completed_text[0].text == case.expect["output_text"]
        assert events.index(completed_text[0]) == len(events) - 2
    if isinstance(terminal, MessageCompleted):
        expected_calls = [c["name"] for c in case.expect["tool_calls"]]
        assert [c.name for c in terminal.message.tool_calls] == expected_calls
        assert terminal.message.content == case.expect["output_text"]
        assert terminal.metadata["raw_finish_reason"] == case.expect["raw_finish_reason"]
        if case.expect["usage"] is not None:
            usage_chunks = [e for e in events if isinstance(e, RawChunk)]
            assert usage_chunks and events.index(usage_chunks[-1]) < events.index(terminal)
    signatures = case.expect.get("thought_signatures")
    if signatures:
        calls = [e for e in events if isinstance(e, ToolCallCompleted)]
        call_signatures = [c.metadata.get("thought_signature") for c in calls]
        response = allm.StreamCollector().apply_all(events).to_response()
        block_signatures = [b["signature"] for b in response.metadata.get("reasoning_blocks", ())]
        assert [s for s in call_signatures + block_signatures if s] == signatures


def test_tool_call_ids_are_synthesized_distinct_and_deterministic() -> None:
    case = load(DIRECTORY, "parallel_tool_calls_stream")
    first = allm.generate(engine_for(case), request_from_wire(case.request["body"]), api_key=KEY)
    again = allm.generate(
        engine_for(case, "bytewise"), request_from_wire(case.request["body"]), api_key=KEY
    )
    ids = [c.id for c in first.tool_calls]
    assert len(set(ids)) == 2
    assert all(i.startswith("fc_") for i in ids)
    assert ids == [c.id for c in again.tool_calls]
    assert all(c.metadata["synthetic_id"] is True for c in first.tool_calls)
    assert first.tool_calls[0].metadata["thought_signature"].startswith("CiQB")
    assert "thought_signature" not in first.tool_calls[1].metadata


def test_streaming_and_non_streaming_agree_on_the_same_body(driver: Driver) -> None:
    # The non-streaming path folds the whole body through the same decoder.
    case = load(DIRECTORY, "tool_call_nonstream")
    whole = driver.generate(
        engine_for(case), request_from_wire(case.request["body"]), api_key=KEY, streaming=False
    )
    assert whole.raw["responseId"] == "tO0lCaLlN0nStr34mWq3Rz8"
    assert whole.message is not None and whole.message.tool_calls == whole.tool_calls
    assert whole.usage.extra["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 52}]


def test_safety_and_block_details_are_kept_in_metadata(driver: Driver) -> None:
    safety = load(DIRECTORY, "safety_stream")
    response = _run(driver, safety, "whole")
    assert response.metadata["safety_ratings"] == safety.expect["safety_ratings"]
    assert response.error is None
    blocked = load(DIRECTORY, "prompt_blocked_nonstream")
    response = _run(driver, blocked, "whole")
    assert response.metadata["prompt_block_reason"] == "SAFETY"
    assert response.metadata["safety_ratings"] == blocked.expect["safety_ratings"]


def test_context_overflow_and_proxy_request_id(driver: Driver) -> None:
    overflow = _run(driver, load(DIRECTORY, "error_400_context_length"), "whole")
    assert overflow.error.reason == "context_length_exceeded"
    proxied = _run(driver, load(DIRECTORY, "sse_comments_proxy_stream"), "whole")
    assert proxied.metadata["provider_request_id"] == "gw-req-5f2c9a71"


def test_malformed_function_call_is_an_error_finish_with_its_raw_reason(driver: Driver) -> None:
    response = _run(driver, load(DIRECTORY, "malformed_function_call_stream"), "whole")
    assert response.finish_reason == "error"
    assert response.raw_finish_reason == "MALFORMED_FUNCTION_CALL"
    assert isinstance(response.error, allm.AdapterError)
    with pytest.raises(allm.AdapterError, match="MALFORMED_FUNCTION_CALL"):
        allm.unwrap(response)
