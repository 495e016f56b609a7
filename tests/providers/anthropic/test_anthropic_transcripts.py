"""Every Anthropic transcript replayed through the adapter, sync and async, fed whole, byte by
byte and at the recorded chunk boundaries: the folded Response must equal expect.json and the
request sent must contain the recorded body, URL, method and headers."""

from __future__ import annotations

from typing import Any

import pytest
from tests.providers.anthropic.support import DIRECTORY, engine_for, request_from_body
from tests.providers.wire import Case, case_names, check_response, is_subset, load

import allm

CASES = case_names(DIRECTORY)
HOWS = ["whole", "bytewise", "boundaries"]
SHARED = {
    "error_400_invalid_request",
    "error_429_rate_limit",
    "max_tokens_stream",
    "text_nonstream",
    "text_stream",
    "tool_use_stream_fragmented",
}


def _run(case: Case, driver: Any, how: str, *, streaming: bool) -> allm.Response:
    request, params = request_from_body(case.request["body"])
    engine = engine_for(case, how)
    return driver.generate(engine, request, api_key="test-key", streaming=streaming, **params)


def _extras(response: allm.Response, expect: dict[str, Any]) -> list[str]:
    """The provider extras of expect.json that check_response does not look at."""
    problems: list[str] = []
    blocks = response.metadata.get("reasoning_blocks") or ()
    if "thinking_signatures" in expect:
        got = [b["signature"] for b in blocks if b["id"] == "thinking"]
        if got != expect["thinking_signatures"]:
            problems.append(f"thinking_signatures: {got!r}")
    if "redacted_thinking_blocks" in expect:
        got = [b["signature"] for b in blocks if b["id"] == "redacted_thinking"]
        if got != expect["redacted_thinking_blocks"]:
            problems.append(f"redacted_thinking_blocks: {got!r}")
    for key in ("stop_details", "stop_sequence"):
        if key in expect and response.metadata.get(key) != expect[key]:
            problems.append(f"{key}: {response.metadata.get(key)!r}")
    return problems


def test_the_fixture_directory_has_the_shared_cases_and_enough_new_ones() -> None:
    assert set(CASES) >= SHARED
    assert len(set(CASES) - SHARED) >= 12


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("name", CASES)
def test_transcript_gives_its_expectation(name: str, how: str, driver: Any) -> None:
    case = load(DIRECTORY, name)
    response = _run(case, driver, how, streaming=case.expect["stream"])
    assert check_response(response, case.expect) == []
    assert _extras(response, case.expect) == []


@pytest.mark.parametrize("name", CASES)
def test_request_matches_the_recorded_one(name: str, driver: Any) -> None:
    case = load(DIRECTORY, name)
    _run(case, driver, "whole", streaming=case.expect["stream"])
    assert len(case.seen) == 1
    sent = case.seen[-1]
    assert sent.method == case.request["method"]
    assert str(sent.url) == case.request["url"]
    assert sent.headers["x-api-key"] == "test-key"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert is_subset(case.request["body"], case.sent_body()) == []
    if not case.expect["stream"]:
        assert "stream" not in case.sent_body()


@pytest.mark.parametrize("name", [n for n in CASES if load(DIRECTORY, n).status >= 400], ids=str)
def test_http_errors_are_the_same_on_the_other_path(name: str, driver: Any) -> None:
    """An HTTP error is not streamed, so both paths must classify it the same way."""
    case = load(DIRECTORY, name)
    response = _run(case, driver, "whole", streaming=not case.expect["stream"])
    assert check_response(response, case.expect) == []
    error = response.metadata["error"]
    assert isinstance(error, allm.AdapterError)
    assert error.provider == "anthropic"
    assert error.status == case.status
