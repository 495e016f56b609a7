"""Mistral's error bodies: ``{object: "error", message, type, param, code}``, a flat
``{message, request_id}`` from its gateway, and a 422 whose ``message`` is a validation
``{detail: [{loc, msg}]}`` object."""

from __future__ import annotations

from typing import Any

from ...adapters import Call
from ...adapters.http import HttpResult
from ...errors import AdapterError
from ..openai import api_error, classify_http_error
from ..wire import as_dict, as_list, decode_json


def _detail_text(message: Any) -> str | None:
    details = as_list(as_dict(message).get("detail"))
    parts = []
    for item in details:
        item = as_dict(item)
        where = ".".join(str(p) for p in as_list(item.get("loc")))
        parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
    return "; ".join(parts) or None


def classify_mistral_error(provider: str, result: HttpResult, call: Call) -> AdapterError:
    """An HTTP error status and body as an ``AdapterError``."""
    try:
        parsed = decode_json(result.body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), dict):
        flat = {**parsed, "message": _detail_text(parsed["message"]) or "invalid request"}
        return api_error(provider, call, flat, status=result.status, headers=result.headers)
    error = classify_http_error(provider, result, call)
    if error.reason == "invalid_request" and "context length" in error.message.lower():
        state = error.to_state()
        state["reason"] = "context_length_exceeded"
        return AdapterError(**state)
    return error
