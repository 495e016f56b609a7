"""Mistral's chat completions (``https://api.mistral.ai/v1``, ``MISTRAL_API_KEY``): the Chat
Completions wire with Mistral's spellings and shapes (``docs/design/providers-azure-mistral-ollama.md``).
"""

from __future__ import annotations

from .adapter import Mistral
from .decode import MistralStreamDecoder, content_chunks
from .request import mistral_tool_call_id

__all__ = ["Mistral", "MistralStreamDecoder", "content_chunks", "mistral_tool_call_id"]
