"""Google Gemini API (Generative Language, ``v1beta``): request building, stream decoding, errors.

What it does: translates a ``Request`` into a ``generateContent`` body (system messages hoisted to
``systemInstruction``, roles ``user``/``model``, tool results as ``functionResponse`` parts named
after the call they answer, thought signatures echoed on the part they came with, schemas cleaned
of keys Gemini rejects) and the answer, streamed (``streamGenerateContent?alt=sse``: every SSE event
is a whole ``GenerateContentResponse``, no terminal marker) or whole, back into allm events and a
``Response``. What it does not do: I/O (the drivers perform the HTTP), URL images (Gemini only
takes inline bytes on this API: rejected before sending), Vertex AI. The wire quirks and the
choices made are in ``docs/design/providers-gemini.md``.
"""

from __future__ import annotations

from .adapter import Gemini
from .decode import GeminiStreamDecoder, finish_reason_for, usage_fields
from .errors import classify
from .request import generation_config, sanitize_schema
from .settings import (
    DEFAULT_BASE_URL,
    SKIP_SIGNATURE,
    TEXT_SIGNATURE_ID,
    THOUGHT_ID,
    THOUGHT_SIGNATURE_ID,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "SKIP_SIGNATURE",
    "TEXT_SIGNATURE_ID",
    "THOUGHT_ID",
    "THOUGHT_SIGNATURE_ID",
    "Gemini",
    "GeminiStreamDecoder",
    "classify",
    "finish_reason_for",
    "generation_config",
    "sanitize_schema",
    "usage_fields",
]
