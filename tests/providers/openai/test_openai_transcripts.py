"""Every recorded OpenAI transcript (Chat Completions and Responses, shared and our own) through
the sync and async APIs, fed whole, byte by byte and at the listed chunk boundaries: the folded
Response matches expect.json, and the request the adapter builds matches request.json."""

from __future__ import annotations

import pytest
from tests.providers.openai.support import (
    CHAT,
    RESPONSES,
    engine_for,
    expected_body,
    is_compatible,
    key_opts,
    request_for,
    run,
)
from tests.providers.wire import case_names, check_response, is_subset, load

CASES = [(d, name) for d in (CHAT, RESPONSES) for name in case_names(d)]
IDS = [f"{d}/{name}" for d, name in CASES]


def test_each_directory_has_its_shared_and_new_cases() -> None:
    chat, responses = case_names(CHAT), case_names(RESPONSES)
    assert {"text_stream", "text_nonstream", "tool_call_stream_fragmented"} <= set(chat)
    assert {"text_stream", "max_output_tokens_incomplete"} <= set(responses)
    assert len(chat) >= 6 + 12 and len(responses) >= 5 + 12


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("how", ["whole", "bytewise", "boundaries"])
@pytest.mark.parametrize(("directory", "name"), CASES, ids=IDS)
def test_transcript_folds_to_its_expectation(directory: str, name: str, how: str, api: str) -> None:
    case = load(directory, name)
    if how == "boundaries" and not case.boundaries:
        how = [len(case.body) // 3, len(case.body) // 2]  # type: ignore[assignment]
    request, params = request_for(case)
    response = run(
        api,
        engine_for(case, how),
        request,
        stream=case.expect["stream"],
        **params,
        **key_opts(case),
    )
    assert check_response(response, case.expect) == []
    if case.expect.get("error"):
        assert response.finish_reason == "error"
        assert response.metadata["error"].provider == (
            "openai_compatible" if is_compatible(case) else "openai"
        )


@pytest.mark.parametrize(("directory", "name"), CASES, ids=IDS)
def test_adapter_builds_the_recorded_request(directory: str, name: str) -> None:
    case = load(directory, name)
    request, params = request_for(case)
    run("sync", engine_for(case), request, stream=case.expect["stream"], **params, **key_opts(case))
    sent = case.seen[-1]
    assert sent.method == case.request["method"]
    assert str(sent.url) == case.request["url"]
    assert is_subset(expected_body(case), case.sent_body()) == []
    if is_compatible(case):
        assert "authorization" not in sent.headers
    else:
        assert sent.headers["authorization"] == "Bearer test-key"
    assert sent.headers["content-type"] == "application/json"
    if case.expect["stream"]:
        assert case.sent_body()["stream"] is True
    else:
        assert "stream" not in case.sent_body()


def test_error_transcripts_carry_the_provider_request_id_and_retry_hint() -> None:
    case = load(CHAT, "error_429_rate_limit")
    request, params = request_for(case)
    response = run("sync", engine_for(case), request, stream=True, **params, api_key="k")
    error = response.metadata["error"]
    assert error.reason == "rate_limited"
    assert error.retry_after_ms == 1000
    assert error.request_id == "req_cb4b0202629128bd6b6fbe898e017eaf"
    assert error.metadata["openai_code"] == "rate_limit_exceeded"
    assert error.metadata["openai_type"] == "tokens"
    assert "375ms" in error.message
