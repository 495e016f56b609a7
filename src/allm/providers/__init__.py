"""Bundled providers. Each is imported on first use, so ``import allm`` stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from .anthropic import Anthropic
    from .azure import AzureOpenAI
    from .bedrock import Bedrock
    from .fake import Fake
    from .fake_images import FakeImages
    from .gemini import Gemini
    from .mistral import Mistral
    from .ollama import Ollama
    from .openai import OpenAI, OpenAICompatible
    from .openai_images import OpenAIImages
    from .vertex import Vertex

__all__ = [
    "Anthropic",
    "AzureOpenAI",
    "Bedrock",
    "Fake",
    "FakeImages",
    "Gemini",
    "Mistral",
    "Ollama",
    "OpenAI",
    "OpenAICompatible",
    "OpenAIImages",
    "Vertex",
]

_LAZY = {
    "Anthropic": "allm.providers.anthropic",
    "AzureOpenAI": "allm.providers.azure",
    "Bedrock": "allm.providers.bedrock",
    "Fake": "allm.providers.fake",
    "FakeImages": "allm.providers.fake_images",
    "Gemini": "allm.providers.gemini",
    "Mistral": "allm.providers.mistral",
    "Ollama": "allm.providers.ollama",
    "OpenAI": "allm.providers.openai",
    "OpenAICompatible": "allm.providers.openai",
    "OpenAIImages": "allm.providers.openai_images",
    "Vertex": "allm.providers.vertex",
}


__getattr__ = lazy_names(globals(), _LAZY)
