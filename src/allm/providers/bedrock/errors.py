"""Bedrock error mapping: an error type (``x-amzn-ErrorType``, ``:exception-type``, ``__type``)
and message to an ``AdapterError`` with a closed reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...adapters.base import json_or_none, retry_after_ms
from ...adapters.http import HttpResult
from ...errors import AdapterError
from .settings import CONTEXT_PHRASES, ERROR_TYPES


def error_type_of(raw: str | None) -> str | None:
    """``ThrottlingException`` from ``ThrottlingException:http://internal.amazon.com/...`` or
    ``com.amazon.coral.service#ThrottlingException``."""
    if not raw:
        return None
    name = raw.split(":", 1)[0]
    return name.rsplit("#", 1)[-1].strip() or None


def classify(status: int | None, error_type: str | None, message: str) -> str:
    """The ``AdapterError`` reason (``status`` None: an exception frame inside a stream)."""
    reason = ERROR_TYPES.get((error_type or "").lower())
    if reason == "invalid_request" or (reason is None and status in (400, 404, 413, 422)):
        lowered = message.lower()
        if any(phrase in lowered for phrase in CONTEXT_PHRASES):
            return "context_length_exceeded"
        return "invalid_request"
    if reason is not None:
        return reason
    if status in (401, 403):
        return "authentication_failed"
    if status == 429:
        return "rate_limited"
    if status == 408:
        return "timeout"
    if status is not None and status >= 500:
        return "provider_unavailable"
    return "unknown" if status is not None else "provider_unavailable"


def snippet(body: bytes, limit: int = 160) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace")
    return " ".join(text.split())[:limit]


def http_error(provider: str, result: HttpResult, request_id: str) -> AdapterError:
    """An HTTP error: ``{"message": ...}`` (or ``Message``) with the type in ``x-amzn-ErrorType``
    (or the body's ``__type``); a body that is not one (an HTML page) is ``malformed_response``."""
    headers = result.headers
    provider_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    data = json_or_none(result.body)
    message = _message_of(data)
    retry_after = retry_after_ms(headers)
    if message is None:
        kind = headers.get("content-type", "unknown content type")
        return AdapterError(
            "malformed_response",
            f"Bedrock answered HTTP {result.status} with an unreadable body ({kind}): "
            f"{snippet(result.body)!r}",
            provider=provider,
            status=result.status,
            retry_after_ms=retry_after,
            request_id=provider_id or request_id,
        )
    error_type = error_type_of(headers.get("x-amzn-errortype")) or error_type_of(
        data.get("__type") if isinstance(data.get("__type"), str) else None
    )
    return AdapterError(
        classify(result.status, error_type, message),
        message,
        provider=provider,
        status=result.status,
        retry_after_ms=retry_after,
        request_id=provider_id or request_id,
        metadata={"bedrock_type": error_type} if error_type else {},
    )


def _message_of(data: Any) -> str | None:
    if not isinstance(data, Mapping):
        return None
    for key in ("message", "Message"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None


def frame_error(
    provider: str, error_type: str | None, payload: bytes, request_id: str
) -> AdapterError:
    """An exception frame of the stream (``:message-type`` exception or error)."""
    data = json_or_none(payload)
    message = _message_of(data) or f"{error_type or 'an error'} in the Bedrock stream"
    return AdapterError(
        classify(None, error_type, message),
        message,
        provider=provider,
        request_id=request_id,
        metadata={"bedrock_type": error_type, "in_band": True},
    )
