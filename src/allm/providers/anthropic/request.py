"""Anthropic request building helpers: structured output as a forced tool, thinking blocks sent back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...data.messages import Role
from ...data.request import Request
from .settings import REDACTED_THINKING_ID, STRUCTURED_TOOL_PREFIX, THINKING_ID

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _json_format(response_format: Any) -> tuple[str, dict[str, Any]] | None:
    """(schema name, schema) for a structured ``response_format``, else None."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format.get("schema")
        return str(response_format.get("name") or "response"), dict(schema or {})
    if kind == "json_object":
        return "object", {"type": "object"}
    return None


def structured_tool_name(request: Request) -> str | None:
    """The synthetic tool that carries structured output for ``request``, or None.

    None when the request asks for no JSON, or when an earlier assistant turn already called the
    synthetic tool (it is not injected again, so the user's tools stay callable).
    """
    fmt = _json_format(request.response_format)
    if fmt is None:
        return None
    name = (STRUCTURED_TOOL_PREFIX + _NAME_UNSAFE.sub("_", fmt[0]))[:64]
    for message in request.messages:
        if message.role == Role.ASSISTANT and any(call.name == name for call in message.tool_calls):
            return None
    return name


def _thinking_blocks(blocks: Any) -> Iterable[dict[str, Any]]:
    """Anthropic thinking blocks from an assistant message's ``reasoning_blocks``.

    Blocks this adapter produced (``id`` "thinking" / "redacted_thinking") and native Anthropic
    blocks (with a ``type``) are sent back verbatim; a thinking block without a signature, or a
    block from another provider, is left out (the API would reject it).
    """
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        return
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in (THINKING_ID, REDACTED_THINKING_ID):
            yield dict(block)
            continue
        marker = block.get("id")
        signature = block.get("signature")
        if not isinstance(signature, str) or not signature:
            continue
        if marker == THINKING_ID:
            yield {"type": "thinking", "thinking": block.get("text") or "", "signature": signature}
        elif marker == REDACTED_THINKING_ID:
            yield {"type": "redacted_thinking", "data": signature}
