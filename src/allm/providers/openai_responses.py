"""The OpenAI Responses wire, at its historical path: the code lives in
``allm.providers.openai.responses_request`` and ``allm.providers.openai.responses_decode``."""

from __future__ import annotations

from .openai.responses_decode import (
    Output,
    ResponsesStreamDecoder,
    finish_of,
    parse_body,
    reasoning_blocks,
    responses_usage,
)
from .openai.responses_request import build_body, input_items, reasoning_items

__all__ = [
    "ResponsesStreamDecoder",
    "build_body",
    "parse_body",
    "responses_usage",
    "Output",
    "finish_of",
    "reasoning_blocks",
    "input_items",
    "reasoning_items",
]
