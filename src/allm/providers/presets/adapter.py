"""``OpenAICompatible`` presets: one class per known service, so each is a registry name with
its own settings scope and key (a key only reaches its own service's host)."""

from __future__ import annotations

from typing import Any, ClassVar

from ... import keys
from ...adapters import Call
from ..openai.adapter import OpenAICompatible
from .settings import PRESETS


class CompatiblePreset(OpenAICompatible):
    """An ``OpenAICompatible`` with a known service's base URL (a ``base_url`` option overrides
    it), key variable and quirks. A hosted service needs its key; a local server takes one when
    it is set."""

    preset: ClassVar[str] = ""
    # provider_options={"openai_compatible": {...}} reaches every preset, under its own entry
    option_scopes: ClassVar[tuple[str, ...]] = ("openai_compatible",)

    def __init_subclass__(cls, *, preset: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = PRESETS[preset]
        cls.preset = cls.name = cls.key_provider = preset
        cls.default_base_url = known.base_url
        cls.requires_key = known.key_required
        cls.empty_tool_turn_content = known.empty_tool_turn_content

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` with the service's key (required for hosted services)."""
        if self.requires_key:
            return {"authorization": f"Bearer {self.api_key(call)}"}
        found = keys.get(self.key_provider, call.api_key)
        return {"authorization": f"Bearer {found[0]}"} if found else {}


class Groq(CompatiblePreset, preset="groq"):
    """Groq (``GROQ_API_KEY``); its ``x_groq.usage`` is the stream's usage."""


class OpenRouter(CompatiblePreset, preset="openrouter"):
    """OpenRouter (``OPENROUTER_API_KEY``); ``delta.reasoning`` is reasoning, an error beside
    ``choices`` ends the stream as that error; ``reasoning=`` is sent as ``reasoning: {effort}``."""

    nested_reasoning: ClassVar[bool] = True


class DeepSeek(CompatiblePreset, preset="deepseek"):
    """DeepSeek (``DEEPSEEK_API_KEY``); ``reasoning_content`` is reasoning."""


class XAI(CompatiblePreset, preset="xai"):
    """xAI (``XAI_API_KEY``)."""


class Together(CompatiblePreset, preset="together"):
    """Together AI (``TOGETHER_API_KEY``)."""


class Fireworks(CompatiblePreset, preset="fireworks"):
    """Fireworks AI (``FIREWORKS_API_KEY``)."""


class Cerebras(CompatiblePreset, preset="cerebras"):
    """Cerebras (``CEREBRAS_API_KEY``)."""


class VLLM(CompatiblePreset, preset="vllm"):
    """A vLLM server (``http://localhost:8000/v1``, key optional)."""


class LlamaCpp(CompatiblePreset, preset="llamacpp"):
    """A llama.cpp server (``http://localhost:8080/v1``, key optional)."""


class LMStudio(CompatiblePreset, preset="lmstudio"):
    """LM Studio (``http://localhost:1234/v1``, key optional)."""


class LiteLLM(CompatiblePreset, preset="litellm"):
    """A LiteLLM proxy (``http://localhost:4000/v1``, ``LITELLM_API_KEY`` when it has one)."""


PRESET_CLASSES: dict[str, type[CompatiblePreset]] = {
    cls.preset: cls
    for cls in (
        Groq,
        OpenRouter,
        DeepSeek,
        XAI,
        Together,
        Fireworks,
        Cerebras,
        VLLM,
        LlamaCpp,
        LMStudio,
        LiteLLM,
    )
}
