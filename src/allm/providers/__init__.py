"""Bundled providers. Each is imported on first use, so ``import allm`` stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    "Anthropic": ("allm.providers.anthropic", "Anthropic"),
    "AzureOpenAI": ("allm.providers.azure", "AzureOpenAI"),
    "Bedrock": ("allm.providers.bedrock", "Bedrock"),
    "Fake": ("allm.providers.fake", "Fake"),
    "FakeImages": ("allm.providers.fake_images", "FakeImages"),
    "Gemini": ("allm.providers.gemini", "Gemini"),
    "Mistral": ("allm.providers.mistral", "Mistral"),
    "Ollama": ("allm.providers.ollama", "Ollama"),
    "OpenAI": ("allm.providers.openai", "OpenAI"),
    "OpenAICompatible": ("allm.providers.openai", "OpenAICompatible"),
    "OpenAIImages": ("allm.providers.openai_images", "OpenAIImages"),
    "Vertex": ("allm.providers.vertex", "Vertex"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'allm.providers' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
