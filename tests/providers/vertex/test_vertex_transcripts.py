"""Every Vertex transcript (Gemini and Claude models), replayed whole, byte by byte and at its
chunk boundaries through the sync and the async API: the folded Response matches expect.json and
the request the adapter built matches request.json (URL, method, auth header, body as a subset).
Each case's notes name the documentation it follows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import Driver
from tests.providers.vertex.support import (
    CLAUDE,
    GEMINI,
    TOKEN,
    engine_for,
    is_express,
    request_for,
)
from tests.providers.wire import Case, case_names, check_response, is_subset, load

import allm
from allm.events import ErrorEvent, MessageCompleted, MessageStarted

EXPRESS_KEY = "express-test-key"
CASES = [(directory, name) for directory in (GEMINI, CLAUDE) for name in case_names(directory)]


def _params() -> list[Any]:
    params = []
    for directory, name in CASES:
        case = load(directory, name)
        for how in ["whole", "bytewise"] + (["boundaries"] if case.boundaries else []):
            params.append(pytest.param(directory, name, how, id=f"{directory}-{name}-{how}"))
    return params


def _run(driver: Driver, case: Case, how: str, **opts: Any) -> allm.Response:
    request, params = request_for(case)
    engine = engine_for(case, how)
    key = {"api_key": EXPRESS_KEY} if is_express(case) else {}
    return driver.generate(
        engine, request, streaming=case.expect["stream"], **key, **params, **opts
    )


def test_there_are_twelve_gemini_cases_and_some_claude_cases_each_citing_its_documentation() -> (
    None
):
    gemini, claude = case_names(GEMINI), case_names(CLAUDE)
    assert len(gemini) >= 12 and len(claude) >= 4
    for directory, name in CASES:
        notes = load(directory, name).expect["notes"]
        assert any("https://" in note for note in notes), name
    kinds = {(load(d, n).expect["stream"], load(d, n).expect["finish_reason"]) for d, n in CASES}
    assert {(True, "stop"), (False, "stop"), (True, "error"), (False, "error")} <= kinds
    assert {(True, "tool_calls"), (False, "tool_calls"), (False, "content_filter")} <= kinds


@pytest.mark.parametrize(("directory", "name", "how"), _params())
def test_transcript_folds_to_its_expectation(
    driver: Driver, directory: str, name: str, how: str
) -> None:
    case = load(directory, name)
    response = _run(driver, case, how)
    assert check_response(response, case.expect) == []
    error = response.metadata.get("error")
    if error is not None:
        assert error.provider == "vertex"


@pytest.mark.parametrize(("directory", "name"), CASES)
def test_request_matches_the_recorded_request(driver: Driver, directory: str, name: str) -> None:
    case = load(directory, name)
    _run(driver, case, "whole")
    assert len(case.seen) == 1
    sent = case.seen[-1]
    assert sent.method == case.request["method"]
    assert str(sent.url) == case.request["url"]
    assert "key=" not in str(sent.url)
    if is_express(case):
        assert sent.headers["x-goog-api-key"] == EXPRESS_KEY
        assert "authorization" not in sent.headers
    else:
        assert sent.headers["authorization"] == f"Bearer {TOKEN}"
        assert "x-goog-api-key" not in sent.headers
    assert "x-api-key" not in sent.headers and "anthropic-version" not in sent.headers
    assert sent.headers["content-type"] == "application/json"
    body = case.sent_body()
    assert is_subset(case.request["body"], body) == []
    if directory == CLAUDE:
        assert "model" not in body and body["anthropic_version"] == "vertex-2023-10-16"


@pytest.mark.parametrize(
    ("directory", "name"), [(d, n) for d, n in CASES if load(d, n).expect["stream"]]
)
def test_stream_events_follow_the_grammar(directory: str, name: str) -> None:
    case = load(directory, name)
    request, params = request_for(case)
    key = {"api_key": EXPRESS_KEY} if is_express(case) else {}
    events = list(allm.stream_generate(engine_for(case, "bytewise"), request, **key, **params))
    assert isinstance(events[0], MessageStarted)
    assert sum(isinstance(e, MessageCompleted | ErrorEvent) for e in events) == 1
    terminal = next(e for e in events if isinstance(e, MessageCompleted | ErrorEvent))
    assert isinstance(terminal, ErrorEvent) == (case.expect["finish_reason"] == "error")


def test_a_screening_stop_keeps_its_vertex_reason_and_message() -> None:
    case = load(GEMINI, "model_armor_blocked_nonstream")
    response = _run(Driver("sync"), case, "whole")
    assert response.finish_reason == "content_filter"
    assert response.raw_finish_reason == "MODEL_ARMOR"
    assert response.metadata["prompt_block_reason"] == "MODEL_ARMOR"


def test_vertex_usage_fields_beyond_the_counters_are_kept_in_extra() -> None:
    case = load(GEMINI, "text_stream")
    response = _run(Driver("sync"), case, "whole")
    assert response.usage.extra["trafficType"] == "ON_DEMAND"
    assert response.usage.extra["candidatesTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 21}
    ]


def test_an_error_detail_reason_is_kept_in_the_error_metadata() -> None:
    case = load(GEMINI, "error_403_iam_permission_denied")
    response = _run(Driver("sync"), case, "whole")
    assert response.error.metadata["error_reason"] == "IAM_PERMISSION_DENIED"
    assert response.error.metadata["google_status"] == "PERMISSION_DENIED"
    assert response.error.status == 403


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=12))
def test_any_chunking_of_a_vertex_stream_folds_to_the_same_response(cuts: list[int]) -> None:
    for directory in (GEMINI, CLAUDE):
        case = load(directory, "text_stream")
        request, params = request_for(case)
        response = allm.generate(engine_for(case, cuts), request, **params)
        assert check_response(response, case.expect) == []
