"""Gemini error classification: HTTP statuses, gRPC codes, ErrorInfo / QuotaFailure / RetryInfo
details, array-wrapped bodies, unreadable bodies, in-band errors; and retry behaviour."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.conftest import Driver
from tests.providers.gemini.support import KEY
from tests.providers.wire import load

import allm
from allm.adapters import Call
from allm.adapters.http import HttpResult
from allm.errors import AdapterError
from allm.providers.gemini import Gemini, GeminiStreamDecoder, classify

CALL = Call(request_id="req-local", engine=allm.Engine())
JSON = {"content-type": "application/json; charset=UTF-8"}


def error_body(code: int, status: str, message: str = "m", details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


def classify_http(status: int, body: Any, headers: dict[str, str] | None = None) -> AdapterError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Gemini().classify_error(HttpResult(status, headers or JSON, raw), CALL)


@pytest.mark.parametrize(
    ("status", "google_status", "reason"),
    [
        (400, "INVALID_ARGUMENT", "invalid_request"),
        (400, "FAILED_PRECONDITION", "invalid_request"),
        (401, "UNAUTHENTICATED", "authentication_failed"),
        (403, "PERMISSION_DENIED", "authentication_failed"),
        (404, "NOT_FOUND", "invalid_request"),
        (408, "DEADLINE_EXCEEDED", "timeout"),
        (413, "INVALID_ARGUMENT", "invalid_request"),
        (429, "RESOURCE_EXHAUSTED", "rate_limited"),
        (500, "INTERNAL", "provider_unavailable"),
        (502, "UNAVAILABLE", "provider_unavailable"),
        (503, "UNAVAILABLE", "provider_unavailable"),
        (504, "DEADLINE_EXCEEDED", "provider_unavailable"),
        (418, "UNKNOWN", "unknown"),
    ],
)
def test_http_statuses(status: int, google_status: str, reason: str) -> None:
    error = classify_http(status, error_body(status, google_status, "boom"))
    assert error.reason == reason
    assert error.status == status
    assert error.provider == "gemini"
    assert error.message == "boom"
    assert error.request_id == "req-local"
    assert error.metadata["google_status"] == google_status
    assert error.metadata["type"] == google_status
    assert error.metadata["error_code"] == status
    assert "in_band" not in error.metadata


def test_api_key_invalid_is_authentication_even_on_400() -> None:
    case = load("gemini", "error_400_api_key_invalid")
    error = classify_http(400, case.body)
    assert error.reason == "authentication_failed"
    assert error.metadata["error_reason"] == "API_KEY_INVALID"


def test_rate_limit_vs_daily_quota_and_retry_delay() -> None:
    minute = classify_http(429, load("gemini", "error_429_resource_exhausted").body)
    assert minute.reason == "rate_limited"
    assert minute.retry_after_ms == 38_000
    assert minute.metadata["quota_ids"] == ["GenerateRequestsPerMinutePerProjectPerModel-FreeTier"]
    daily = classify_http(429, load("gemini", "error_429_quota_per_day").body)
    assert daily.reason == "quota_exhausted"
    assert daily.retry_after_ms == 41_000
    assert daily.metadata["retry_delay"] == "41s"


def test_array_wrapped_body_and_fractional_delay() -> None:
    error = classify_http(429, load("gemini", "error_429_array_wrapped").body)
    assert error.reason == "rate_limited"
    assert error.retry_after_ms == 38_601
    assert error.message == "Resource has been exhausted (e.g. check quota)."


def test_a_retry_after_header_wins_over_the_body_delay() -> None:
    body = error_body(
        429,
        "RESOURCE_EXHAUSTED",
        details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "9s"}],
    )
    assert classify_http(429, body, {**JSON, "retry-after": "2"}).retry_after_ms == 2000
    odd = error_body(
        429,
        "RESOURCE_EXHAUSTED",
        details=[
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"},
            "junk",
        ],
    )
    assert classify_http(429, odd).retry_after_ms is None


def test_context_overflow_message() -> None:
    error = classify_http(400, load("gemini", "error_400_context_length").body)
    assert error.reason == "context_length_exceeded"
    assert isinstance(error, allm.errors.ContextLengthError)


@pytest.mark.parametrize(
    "body",
    [b"<html><body>502 Bad Gateway</body></html>", b"", b'{"error": "flat string"}', b"[1, 2]"],
    ids=["html", "empty", "flat-error", "array"],
)
def test_unreadable_error_bodies_are_malformed_with_the_status_kept(body: bytes) -> None:
    error = classify_http(502, body, {"content-type": "text/html", "retry-after": "3"})
    assert error.reason == "malformed_response"
    assert error.status == 502
    assert error.retry_after_ms == 3000
    assert "HTTP 502" in error.message


def test_in_band_errors_classify_by_code_with_no_http_status() -> None:
    decoder = GeminiStreamDecoder("gemini", "req-local")
    decoder.start(HttpResult(200, {"content-type": "text/event-stream"}))
    (event,) = decoder.payload(error_body(503, "UNAVAILABLE", "The model is overloaded."))
    error = event.error  # type: ignore[attr-defined]
    assert error.reason == "provider_unavailable"
    assert error.status is None
    assert error.metadata["in_band"] is True
    assert decoder.done
    assert classify(None, "RESOURCE_EXHAUSTED", "", {}) == "rate_limited"
    assert classify(None, "PERMISSION_DENIED", "", {}) == "authentication_failed"
    assert classify(None, "SOMETHING_NEW", "", {}) == "unknown"
    assert classify(None, None, "", {}) == "unknown"


# -- retry ----------------------------------------------------------------------------------------


class Sequence_:
    """Serves the given (status, headers, body) answers in order, counting requests."""

    def __init__(self, *answers: tuple[int, dict[str, str], bytes]) -> None:
        self.answers = list(answers)
        self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.answers[min(self.count, len(self.answers) - 1)]
        self.count += 1
        return httpx.Response(status, headers=headers, content=body)

    def engine(self, retry: Any) -> allm.Engine:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self(request)

        return allm.Engine(
            adapter=Gemini(),
            model="gemini-2.5-flash",
            adapter_opts={
                "http_client": httpx.Client(transport=httpx.MockTransport(self)),
                "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            },
            retry=retry,
        )


FAST = {"base_delay_ms": 0, "jitter_ms": 0, "respect_retry_after": False}


@pytest.mark.parametrize("streaming", [True, False])
def test_rate_limit_and_overload_are_retried_then_succeed(driver: Driver, streaming: bool) -> None:
    ok = load("gemini", "text_stream" if streaming else "text_nonstream")
    limited = json.dumps(error_body(429, "RESOURCE_EXHAUSTED", "slow down")).encode()
    server = Sequence_(
        (429, JSON, limited),
        (503, JSON, load("gemini", "error_503_unavailable").body),
        (ok.status, ok.headers, ok.body),
    )
    response = driver.generate(
        server.engine(FAST), [allm.user("hi")], api_key=KEY, streaming=streaming
    )
    assert server.count == 3
    assert response.finish_reason == "stop"
    assert response.text == ok.expect["output_text"]


@pytest.mark.parametrize(
    "name", ["error_429_quota_per_day", "error_400_api_key_invalid", "error_400_invalid_argument"]
)
def test_daily_quota_and_client_errors_are_not_retried(driver: Driver, name: str) -> None:
    case = load("gemini", name)
    server = Sequence_((case.status, JSON, case.body), (200, {}, b"{}"))
    response = driver.generate(server.engine(FAST), [allm.user("hi")], api_key=KEY)
    assert server.count == 1
    assert response.finish_reason == "error"
    assert response.error.status == case.status


def test_a_502_html_page_is_retried_by_status(driver: Driver) -> None:
    html = load("gemini", "error_502_html_proxy")
    ok = load("gemini", "text_stream")
    server = Sequence_((502, html.headers, html.body), (200, ok.headers, ok.body))
    response = driver.generate(server.engine(FAST), [allm.user("hi")], api_key=KEY)
    assert server.count == 2
    assert response.text == ok.expect["output_text"]


def test_retry_waits_for_the_body_retry_delay() -> None:
    sleeps: list[float] = []
    body = json.dumps(
        error_body(
            429,
            "RESOURCE_EXHAUSTED",
            details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.004s"}],
        )
    ).encode()
    ok = load("gemini", "text_stream")
    server = Sequence_((429, JSON, body), (200, ok.headers, ok.body))
    handler_id = allm.telemetry.attach(
        lambda name, m, meta: sleeps.append(meta["delay_ms"]), ["allm.adapter.retry"]
    )
    try:
        response = allm.generate(server.engine({"jitter_ms": 0}), [allm.user("hi")], api_key=KEY)
    finally:
        allm.telemetry.detach(handler_id)
    assert response.finish_reason == "stop"
    assert sleeps == [4]
