"""Azure OpenAI's error shape: the OpenAI ``error`` object with an ``innererror`` whose code
(``ResponsibleAIPolicyViolation``) and ``content_filter_result`` say a content filter refused."""

from __future__ import annotations

from typing import Any

from ...adapters import Call
from ...adapters.http import HttpResult
from ...errors import AdapterError
from ..openai import classify_http_error
from ..wire import as_dict, as_str, decode_json

_FILTER_CODES = frozenset({"ResponsibleAIPolicyViolation", "content_filter"})


def azure_error(error: AdapterError, body: Any) -> AdapterError:
    """``error`` with Azure's inner error read: a content-filter code makes it
    ``content_filter``, and the inner code and filter results are kept in its metadata."""
    inner = as_dict(as_dict(as_dict(body).get("error")).get("innererror"))
    code = as_str(inner.get("code"))
    if code is None:
        return error
    state = error.to_state()
    metadata = dict(state.get("metadata") or {})
    metadata["azure_inner_code"] = code
    results = inner.get("content_filter_result") or inner.get("content_filter_results")
    if isinstance(results, dict):
        metadata["content_filter_result"] = results
    state["metadata"] = metadata
    if code in _FILTER_CODES:
        state["reason"] = "content_filter"
    return AdapterError(**state)


def classify_azure_error(provider: str, result: HttpResult, call: Call) -> AdapterError:
    """An HTTP error status and body as an ``AdapterError``."""
    error = classify_http_error(provider, result, call)
    try:
        body = decode_json(result.body)
    except (ValueError, UnicodeDecodeError):
        return error
    return azure_error(error, body)
