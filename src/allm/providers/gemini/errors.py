"""Gemini error mapping: an HTTP status and a ``google.rpc`` error body to an ``AdapterError``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...adapters.base import (
    retry_after_ms,
)
from ...errors import AdapterError
from ..wire import as_int

_CONTEXT_PHRASES = ("exceeds the maximum number of tokens", "input token count")
_STATUS_BY_GRPC = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)s\s*$")
_TYPE_PREFIX = "type.googleapis.com/google.rpc."


def _duration_ms(value: Any) -> int | None:
    """A protobuf Duration string (``"38s"``, ``"38.601s"``) in milliseconds."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return round(float(match.group(1)) * 1000) if match else None


def _unwrap(body: Any) -> Any:
    # Some Google front ends wrap the document in a one-element array.
    if isinstance(body, list) and len(body) == 1:
        return body[0]
    return body


def _details(error: Mapping[str, Any]) -> dict[str, Any]:
    """The facts worth keeping from ``error.details``: ErrorInfo reason, quota ids, retry delay."""
    found: dict[str, Any] = {}
    details = error.get("details")
    if not isinstance(details, list):
        return found
    for detail in details:
        if not isinstance(detail, Mapping):
            continue
        kind = str(detail.get("@type", ""))
        kind = kind[len(_TYPE_PREFIX) :] if kind.startswith(_TYPE_PREFIX) else kind
        if kind == "ErrorInfo" and isinstance(detail.get("reason"), str):
            found.setdefault("error_reason", detail["reason"])
        elif kind == "QuotaFailure" and isinstance(detail.get("violations"), list):
            ids = [
                str(v["quotaId"])
                for v in detail["violations"]
                if isinstance(v, Mapping) and v.get("quotaId")
            ]
            found.setdefault("quota_ids", []).extend(ids)
        elif kind == "RetryInfo" and isinstance(detail.get("retryDelay"), str):
            found["retry_delay"] = detail["retryDelay"]
    return found


def classify(
    status: int | None, google_status: str | None, message: str, facts: Mapping[str, Any]
) -> str:
    """The ``AdapterError`` reason for a Gemini error (HTTP status, or the in-band ``code``)."""
    if facts.get("error_reason") == "API_KEY_INVALID":
        return "authentication_failed"  # Gemini answers a bad key with 400, not 401
    if status is None:
        status = _STATUS_BY_GRPC.get(google_status or "")
    if status is None:
        return "unknown"
    if status == 429 or google_status == "RESOURCE_EXHAUSTED":
        if any("PerDay" in quota for quota in facts.get("quota_ids", ())):
            return "quota_exhausted"  # a daily quota: waiting seconds does not refill it
        return "rate_limited"
    if status in (401, 403):
        return "authentication_failed"
    if status == 400:
        lowered = message.lower()
        if any(phrase in lowered for phrase in _CONTEXT_PHRASES):
            return "context_length_exceeded"
        return "invalid_request"
    if status in (404, 409, 413, 422):
        return "invalid_request"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "provider_unavailable"
    return "unknown"


def _error_from(
    error: Mapping[str, Any],
    *,
    http_status: int | None,
    headers: Mapping[str, str],
    request_id: str,
    provider: str = "gemini",
) -> AdapterError:
    """An ``AdapterError`` from a Google error object ``{code, message, status, details}``."""
    code = as_int(error.get("code"))
    google_status = error.get("status") if isinstance(error.get("status"), str) else None
    message = str(error.get("message") or f"Gemini error {code or google_status or ''}".strip())
    facts = _details(error)
    status_for_reason = http_status if http_status is not None else code
    reason = classify(status_for_reason, google_status, message, facts)
    retry_after = retry_after_ms(headers)
    if retry_after is None:
        retry_after = _duration_ms(facts.get("retry_delay"))
    metadata: dict[str, Any] = {
        "type": google_status,
        "code": google_status,
        "google_status": google_status,
    }
    if code is not None:
        metadata["error_code"] = code
    metadata.update(facts)
    if http_status is None:
        metadata["in_band"] = True
    return AdapterError(
        reason,
        message,
        provider=provider,
        status=http_status,
        retry_after_ms=retry_after,
        request_id=request_id,
        metadata=metadata,
    )


def _snippet(body: bytes | str, limit: int = 160) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return " ".join(text[: limit * 4].split())[:limit]
