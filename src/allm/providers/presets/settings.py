"""The OpenAI-compatible services and servers known by name: base URL, key variable, quirks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    """One known OpenAI-compatible service: its registry name, default base URL, the environment
    variable of its key (``None``: no key needed), and whether an assistant turn with tool calls
    must carry ``content: ""`` (local servers reject ``null``)."""

    name: str
    base_url: str
    key_variable: str | None
    key_required: bool = True
    empty_tool_turn_content: bool = False


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
        Preset("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        Preset("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
        Preset("xai", "https://api.x.ai/v1", "XAI_API_KEY"),
        Preset("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
        Preset("fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
        Preset("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
        Preset("vllm", "http://localhost:8000/v1", "VLLM_API_KEY", False, True),
        Preset("llamacpp", "http://localhost:8080/v1", "LLAMACPP_API_KEY", False, True),
        Preset("lmstudio", "http://localhost:1234/v1", "LMSTUDIO_API_KEY", False, True),
        Preset("litellm", "http://localhost:4000/v1", "LITELLM_API_KEY", False),
    )
}
