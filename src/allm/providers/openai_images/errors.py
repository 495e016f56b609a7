"""OpenAI image error mapping: an HTTP status and error body to an ``ImageAdapterError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...adapters.base import json_or_none, retry_after_ms
from ...errors import ImageAdapterError
from ..wire import as_str

_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"})
_CONTENT_CODES = frozenset(
    {"content_policy_violation", "moderation_blocked", "image_generation_user_error"}
)


def classify_error(
    status: int | None, headers: Mapping[str, str], body: bytes | str
) -> ImageAdapterError:
    """An error status and body from the Images API as an ``ImageAdapterError``."""
    document = json_or_none(body)
    raw_error = document.get("error") if isinstance(document, dict) else None
    if isinstance(raw_error, str):
        raw_error = {"message": raw_error}
    error = raw_error if isinstance(raw_error, dict) else {}
    error_type, code = as_str(error.get("type")), as_str(error.get("code"))
    names = {name.lower() for name in (error_type, code) if name}
    if names & _QUOTA_CODES or status == 402:
        reason = "quota_exhausted"
    elif status in (401, 403):
        reason = "authentication_failed"
    elif names & _CONTENT_CODES or any("content_filter" in name for name in names):
        reason = "content_filter"
    elif "context_length_exceeded" in names:
        reason = "context_length_exceeded"
    elif status == 429:
        reason = "rate_limited"
    elif status == 408:
        reason = "timeout"
    elif status is not None and status >= 500:
        reason = "provider_unavailable"
    elif status in (400, 404, 409, 413, 415, 422):
        reason = "invalid_request"
    else:
        reason = "unknown"
    metadata = {
        key: value
        for key, value in (
            ("openai_type", error_type),
            ("openai_code", code),
            ("openai_param", as_str(error.get("param"))),
            ("openai_request_id", headers.get("x-request-id")),
        )
        if value is not None
    }
    message = as_str(error.get("message")) or f"HTTP {status}"
    return ImageAdapterError(
        reason,
        message,
        provider="openai",
        status=status,
        retry_after_ms=retry_after_ms(headers),
        metadata=metadata,
    )


def _invalid(message: str, **metadata: Any) -> ImageAdapterError:
    return ImageAdapterError("invalid_request", message, provider="openai", metadata=metadata)
