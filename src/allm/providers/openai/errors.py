"""OpenAI error mapping: an HTTP status and error body to an ``AdapterError``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ...adapters import Call
from ...adapters.base import retry_after_ms
from ...adapters.http import HttpResult
from ...errors import AdapterError
from ..wire import as_dict, as_str

_SNIPPET = 200


def snippet(body: bytes | str) -> str:
    """The start of a body for an error message, whitespace collapsed."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


# -- errors ---------------------------------------------------------------------------------------

_QUOTA_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "quota_exceeded"}
)
_RATE_TYPES = frozenset({"tokens", "requests", "rate_limit_error", "rate_limit_exceeded"})
_SERVER_CODES = frozenset({"server_error", "api_error", "overloaded_error", "vector_store_timeout"})
_AUTH_CODES = frozenset({"invalid_api_key", "authentication_error", "permission_denied"})
_CONTENT_CODES = frozenset({"content_filter", "content_policy_violation", "bio_policy"})
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_GO_UNITS = {"h": 3_600_000.0, "m": 60_000.0, "s": 1000.0, "ms": 1.0, "us": 1e-3, "µs": 1e-3}


def go_duration_ms(value: str | None) -> int | None:
    """A Go duration (``375ms``, ``1.846s``, ``6m0s``) in milliseconds, or None."""
    if not value:
        return None
    text = value.strip()
    total, position = 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _GO_UNITS.get(match.group(2), 1e-6)
        position = match.end()
    if position != len(text) or position == 0:
        return None
    return round(total)


def _rate_limit_reset_ms(headers: Mapping[str, str], error_type: str | None) -> int | None:
    tokens = go_duration_ms(headers.get("x-ratelimit-reset-tokens"))
    requests = go_duration_ms(headers.get("x-ratelimit-reset-requests"))
    if error_type == "tokens":
        chosen = tokens
    elif error_type == "requests":
        chosen = requests
    else:
        chosen = max((v for v in (tokens, requests) if v is not None), default=None)
    return chosen if chosen else None


def error_reason(status: int | None, error_type: str | None, code: str | None) -> str:
    """The closed ``AdapterError`` reason for an OpenAI error (an HTTP one or an in-band one)."""
    names = {name.lower() for name in (error_type, code) if name}
    if names & _QUOTA_CODES or status == 402:
        return "quota_exhausted"
    if "context_length_exceeded" in names:
        return "context_length_exceeded"
    if status in (401, 403) or names & _AUTH_CODES:
        return "authentication_failed"
    if names & _CONTENT_CODES or any("content_filter" in name for name in names):
        return "content_filter"
    if status == 429 or names & _RATE_TYPES:
        return "rate_limited"
    if status == 408:
        return "timeout"
    if (status is not None and status >= 500) or names & _SERVER_CODES:
        return "provider_unavailable"
    if status in (400, 404, 409, 413, 422) or "invalid_request_error" in names:
        return "invalid_request"
    if names & {"invalid_prompt", "data_residency_mismatch"} or any(
        name.startswith(("invalid_image", "image_")) for name in names
    ):
        return "invalid_request"
    return "unknown"


def api_error(
    provider: str,
    call: Call,
    error: Any,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> AdapterError:
    """An ``AdapterError`` from an OpenAI error object (``{message, type, code, param}``).

    Accepts the flat Responses ``error`` event and bare strings (some compatible servers send
    ``{"error": "text"}``).
    """
    headers = headers or {}
    if isinstance(error, str):
        error = {"message": error}
    error = as_dict(error)
    error_type = as_str(error.get("type"))
    code = error.get("code")
    code = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
    param = as_str(error.get("param"))
    # Gateways (OpenRouter) put the HTTP status an in-band error stands for in its code.
    effective = int(code) if status is None and code is not None and code.isdigit() else status
    reason = error_reason(effective, error_type, code)
    message = as_str(error.get("message")) or (
        f"HTTP {status}" if status is not None else "the provider reported an error"
    )
    metadata = {
        key: value
        for key, value in (
            ("openai_type", error_type),
            ("openai_code", code),
            ("openai_param", param),
        )
        if value is not None
    }
    retry_ms = retry_after_ms(headers)
    if retry_ms is None and reason == "rate_limited":
        retry_ms = _rate_limit_reset_ms(headers, error_type)
    return AdapterError(
        reason,
        message,
        provider=provider,
        status=status,
        retry_after_ms=retry_ms,
        request_id=headers.get("x-request-id") or call.request_id,
        metadata=metadata,
    )


def unreadable_error(
    provider: str, call: Call, status: int, headers: Mapping[str, str], body: bytes
) -> AdapterError:
    """An error status whose body is not an OpenAI error document (an HTML page from a proxy).

    401/403 and 429 keep their meaning; anything else is ``malformed_response`` (its status is
    kept, so a 502/503 page is still retried by the engine's policy).
    """
    reason = {401: "authentication_failed", 403: "authentication_failed", 429: "rate_limited"}
    content_type = headers.get("content-type", "")
    return AdapterError(
        reason.get(status, "malformed_response"),
        f"HTTP {status} with a body that is not an API error document"
        f" ({content_type or 'no content-type'}): {snippet(body)}",
        provider=provider,
        status=status,
        retry_after_ms=retry_after_ms(headers),
        request_id=headers.get("x-request-id") or call.request_id,
        metadata={"content_type": content_type, "body_unreadable": True},
    )


def classify_http_error(provider: str, result: HttpResult, call: Call) -> AdapterError:
    """An HTTP error status and its body as an ``AdapterError``."""
    try:
        parsed = json.loads(result.body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if isinstance(parsed, dict):
        if "error" in parsed and parsed["error"] is not None:
            return api_error(
                provider, call, parsed["error"], status=result.status, headers=result.headers
            )
        if isinstance(parsed.get("message") or parsed.get("detail"), str):
            # FastAPI-style and bare bodies from compatible servers.
            # Flat bodies (vLLM, Cerebras) keep their type and code beside the message.
            message = parsed.get("message") or parsed.get("detail")
            return api_error(
                provider,
                call,
                {**parsed, "message": message},
                status=result.status,
                headers=result.headers,
            )
    return unreadable_error(provider, call, result.status, result.headers, result.body)
