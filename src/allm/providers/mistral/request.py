"""What Mistral's chat completions body spells its own way: ``tool_choice: "any"``,
``random_seed``, tool-call ids of nine letters and digits, no ``stream_options``, documents as
``document_url`` and audio as ``input_audio`` chunks."""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

from ...data.messages import AudioPart, DocumentPart, ImagePart, Message, TextPart
from ..openai import chat_content

_ID = re.compile(r"^[A-Za-z0-9]{9}$")
_ALPHABET = string.ascii_letters + string.digits


def mistral_tool_call_id(call_id: str) -> str:
    """``call_id`` when Mistral accepts it (nine letters or digits), else a stable nine-character
    id derived from it (a call from another provider, replayed to Mistral)."""
    if _ID.match(call_id):
        return call_id
    number = int.from_bytes(hashlib.sha256(call_id.encode("utf-8")).digest()[:8], "big")
    out = []
    for _ in range(9):
        number, digit = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


def mistral_part_rule(part: DocumentPart | AudioPart) -> str | None:
    """Why Mistral's chat cannot carry ``part``: it reads a document at a URL (or inline text),
    never from bytes (https://docs.mistral.ai/capabilities/document_ai/document_qna/)."""
    if isinstance(part, AudioPart) or part.text is not None or part.source.type == "url":
        return None
    return "unsupported_option"


def mistral_content(message: Message) -> Any:
    """A user message's content: Chat Completions' blocks, with a document at a URL as a
    ``document_url`` chunk and audio as an ``input_audio`` chunk of base64 text
    (https://docs.mistral.ai/capabilities/audio_transcription)."""
    content = message.content
    if isinstance(content, str) or not any(
        isinstance(p, DocumentPart | AudioPart) for p in content
    ):
        return chat_content(message)
    blocks: list[Any] = []
    for part in content:
        if isinstance(part, AudioPart):
            blocks.append({"type": "input_audio", "input_audio": part.to_base64()})
        elif isinstance(part, DocumentPart):
            if part.text is not None:
                blocks.append({"type": "text", "text": part.text})
            else:
                blocks.append({"type": "document_url", "document_url": str(part.source.value)})
        elif isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.extend(chat_content(Message(message.role, (part,))))
    return blocks


def _tool_choice(choice: Any) -> Any:
    # Mistral names "a tool must be called" ``any``.
    return "any" if choice == "required" else choice


def adapt_body(body: dict[str, Any]) -> dict[str, Any]:
    """The Chat Completions body as Mistral takes it."""
    if "tool_choice" in body:
        body["tool_choice"] = _tool_choice(body["tool_choice"])
    if "seed" in body:
        body["random_seed"] = body.pop("seed")
    body.pop("stream_options", None)  # usage always comes on the last chunk
    for message in body.get("messages", ()):
        for call in message.get("tool_calls") or ():
            call["id"] = mistral_tool_call_id(str(call.get("id") or ""))
        if message.get("role") == "tool" and message.get("tool_call_id") is not None:
            message["tool_call_id"] = mistral_tool_call_id(str(message["tool_call_id"]))
    return body
