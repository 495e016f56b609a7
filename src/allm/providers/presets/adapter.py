"""``OpenAICompatible`` presets: one class per known service, so each is a registry name with
its own settings scope and key (a key only reaches its own service's host)."""

from __future__ import annotations

from typing import ClassVar

from ... import keys
from ...adapters import Call
from ..openai.adapter import OpenAICompatible
from .settings import PRESETS


class CompatiblePreset(OpenAICompatible):
    """An ``OpenAICompatible`` with a known service's base URL (a ``base_url`` option overrides
    it), key variable and quirks. A hosted service needs its key; a local server takes one when
    it is set."""

    preset: ClassVar[str] = ""

    def auth_headers(self, call: Call) -> dict[str, str]:
        """``Authorization`` with the service's key (required for hosted services)."""
        if self.requires_key:
            return {"authorization": f"Bearer {self.api_key(call)}"}
        found = keys.get(self.key_provider, call.api_key)
        return {"authorization": f"Bearer {found[0]}"} if found else {}


def _preset(name: str) -> dict[str, object]:
    preset = PRESETS[name]
    return {
        "name": name,
        "preset": name,
        "key_provider": name,
        "default_base_url": preset.base_url,
        "requires_key": preset.key_required,
        "empty_tool_turn_content": preset.empty_tool_turn_content,
    }


class Groq(CompatiblePreset):
    """Groq (``GROQ_API_KEY``); its ``x_groq.usage`` is the stream's usage."""

    locals().update(_preset("groq"))


class OpenRouter(CompatiblePreset):
    """OpenRouter (``OPENROUTER_API_KEY``); ``delta.reasoning`` is reasoning, an error beside
    ``choices`` ends the stream as that error."""

    locals().update(_preset("openrouter"))


class DeepSeek(CompatiblePreset):
    """DeepSeek (``DEEPSEEK_API_KEY``); ``reasoning_content`` is reasoning."""

    locals().update(_preset("deepseek"))


class XAI(CompatiblePreset):
    """xAI (``XAI_API_KEY``)."""

    locals().update(_preset("xai"))


class Together(CompatiblePreset):
    """Together AI (``TOGETHER_API_KEY``)."""

    locals().update(_preset("together"))


class Fireworks(CompatiblePreset):
    """Fireworks AI (``FIREWORKS_API_KEY``)."""

    locals().update(_preset("fireworks"))


class Cerebras(CompatiblePreset):
    """Cerebras (``CEREBRAS_API_KEY``)."""

    locals().update(_preset("cerebras"))


class VLLM(CompatiblePreset):
    """A vLLM server (``http://localhost:8000/v1``, key optional)."""

    locals().update(_preset("vllm"))


class LlamaCpp(CompatiblePreset):
    """A llama.cpp server (``http://localhost:8080/v1``, key optional)."""

    locals().update(_preset("llamacpp"))


class LMStudio(CompatiblePreset):
    """LM Studio (``http://localhost:1234/v1``, key optional)."""

    locals().update(_preset("lmstudio"))


class LiteLLM(CompatiblePreset):
    """A LiteLLM proxy (``http://localhost:4000/v1``, ``LITELLM_API_KEY`` when it has one)."""

    locals().update(_preset("litellm"))


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
