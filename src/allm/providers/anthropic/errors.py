"""Anthropic error mapping: an HTTP status and error body to an ``AdapterError``."""

from __future__ import annotations

_ERROR_TYPES: dict[str, str] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication_failed",
    "permission_error": "authentication_failed",
    "billing_error": "quota_exhausted",
    "not_found_error": "invalid_request",
    "request_too_large": "invalid_request",
    "rate_limit_error": "rate_limited",
    "api_error": "provider_unavailable",
    "timeout_error": "provider_unavailable",
    "overloaded_error": "provider_unavailable",
}
_SPEND_LIMIT_CODES = frozenset({"enforced_spend_limit_reached"})
_CONTEXT_PHRASES = ("prompt is too long", "context window", "context length", "context limit")
_INVALID_STATUSES = frozenset({400, 404, 413, 422})


def _context_overflow(message: str) -> bool:
    lowered = message.lower()
    return any(phrase in lowered for phrase in _CONTEXT_PHRASES)


def classify(
    status: int | None, error_type: str | None, error_code: str | None, message: str
) -> str:
    """The ``AdapterError`` reason for an Anthropic error (``status`` None: in-band)."""
    if error_code in _SPEND_LIMIT_CODES or error_type == "billing_error" or status == 402:
        return "quota_exhausted"
    if status in (401, 403):
        return "authentication_failed"
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "provider_unavailable"
    if status in _INVALID_STATUSES or (status is None and error_type == "invalid_request_error"):
        return "context_length_exceeded" if _context_overflow(message) else "invalid_request"
    return _ERROR_TYPES.get(error_type or "", "unknown")


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace")
    return " ".join(text.split())[:limit]
