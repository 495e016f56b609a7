"""Presets of ``OpenAICompatible``: the hosted services (Groq, OpenRouter, DeepSeek, xAI,
Together, Fireworks, Cerebras) and local servers (vLLM, llama.cpp, LM Studio, a LiteLLM proxy)
as registry names, each with its base URL, key variable and quirks (``docs/design/providers-presets.md``).
"""

from __future__ import annotations

from .adapter import (
    PRESET_CLASSES,
    VLLM,
    XAI,
    Cerebras,
    CompatiblePreset,
    DeepSeek,
    Fireworks,
    Groq,
    LiteLLM,
    LlamaCpp,
    LMStudio,
    OpenRouter,
    Together,
)
from .settings import PRESETS, Preset

__all__ = [
    "PRESETS",
    "PRESET_CLASSES",
    "VLLM",
    "XAI",
    "Cerebras",
    "CompatiblePreset",
    "DeepSeek",
    "Fireworks",
    "Groq",
    "LMStudio",
    "LiteLLM",
    "LlamaCpp",
    "OpenRouter",
    "Preset",
    "Together",
]
