"""Mistral's answers: ``content`` as a string or a list of chunks (``text``, and ``thinking`` on
the magistral reasoning models), the ``model_length`` and ``error`` finish reasons."""

from __future__ import annotations

from typing import Any

from ..._json import dumps
from ...adapters import Call
from ...errors import AdapterError
from ...events import Event
from ..openai import ChatStreamDecoder
from ..wire import as_list, as_str, decode_json


def content_chunks(content: Any) -> tuple[str, str]:
    """The text and the thinking in a ``content`` value (a string, or a list of chunks)."""
    if isinstance(content, str):
        return content, ""
    text: list[str] = []
    thinking: list[str] = []
    for chunk in as_list(content):
        if not isinstance(chunk, dict):
            continue
        kind = chunk.get("type")
        if kind == "text":
            text.append(as_str(chunk.get("text")) or "")
        elif kind == "thinking":
            inner = chunk.get("thinking")
            if isinstance(inner, str):
                thinking.append(inner)
            else:
                thinking.append(content_chunks(inner)[0])
    return "".join(text), "".join(thinking)


def normalized_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message or delta with list content split into ``content`` and ``reasoning_content``."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    text, thinking = content_chunks(content)
    out = {**message, "content": text}
    if thinking:
        out["reasoning_content"] = thinking
    return out


def normalized_body(body: dict[str, Any]) -> dict[str, Any]:
    """A whole completion with each choice's message normalized (and ``model_length`` read as
    ``length``, keeping the raw reason)."""
    choices = []
    for choice in as_list(body.get("choices")):
        if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            choice = {**choice, "message": normalized_message(choice["message"])}
        choices.append(choice)
    return {**body, "choices": choices}


def finish_error(provider: str, call: Call, request_id: str | None) -> AdapterError:
    """``finish_reason: "error"``: the generation failed on Mistral's side."""
    return AdapterError(
        "provider_unavailable",
        "Mistral ended the generation with finish_reason 'error'",
        provider=provider,
        status=200,
        request_id=request_id or call.request_id,
    )


class MistralStreamDecoder(ChatStreamDecoder):
    """Chat Completions chunks with Mistral's content chunks; ``finish_reason: "error"`` ends the
    stream as an error."""

    def _delta(self, delta: dict[str, Any], events: list[Event]) -> None:
        super()._delta(normalized_message(delta), events)

    def complete(self) -> list[Event]:
        if self.raw_finish == "error":
            return self.failed(finish_error(self.provider, self.call, self.provider_request_id))
        return super().complete()

    def finish_body(self, body: bytes) -> list[Event]:
        """A whole completion served to a streaming request, its content chunks read first."""
        try:
            parsed = decode_json(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict) and parsed.get("choices"):
            body = dumps(normalized_body(parsed)).encode("utf-8")
        return super().finish_body(body)
