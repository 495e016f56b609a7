"""What Mistral's chat completions body spells its own way: ``tool_choice: "any"``,
``random_seed``, tool-call ids of nine letters and digits, no ``stream_options``."""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

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
