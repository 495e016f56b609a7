"""Adapter names: which adapter an engine's ``adapter`` name (or a model reference's provider
prefix) means. Plain data (names to ``"module:Class"`` paths), loaded on first use, so the engine
and the model-ref parser can read it without importing any adapter."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "load_class",
    "name_of",
    "provider_of",
    "register_adapter",
    "registered_names",
    "resolve_adapter",
]

_lock = threading.Lock()
_registry: dict[str, str | type[Any]] = {
    "fake": "allm.providers.fake.adapter:Fake",
    "openai": "allm.providers.openai.adapter:OpenAI",
    "openai_compatible": "allm.providers.openai.adapter:OpenAICompatible",
    "groq": "allm.providers.presets.adapter:Groq",
    "openrouter": "allm.providers.presets.adapter:OpenRouter",
    "deepseek": "allm.providers.presets.adapter:DeepSeek",
    "xai": "allm.providers.presets.adapter:XAI",
    "together": "allm.providers.presets.adapter:Together",
    "fireworks": "allm.providers.presets.adapter:Fireworks",
    "cerebras": "allm.providers.presets.adapter:Cerebras",
    "vllm": "allm.providers.presets.adapter:VLLM",
    "llamacpp": "allm.providers.presets.adapter:LlamaCpp",
    "lmstudio": "allm.providers.presets.adapter:LMStudio",
    "litellm": "allm.providers.presets.adapter:LiteLLM",
    "anthropic": "allm.providers.anthropic.adapter:Anthropic",
    "gemini": "allm.providers.gemini.adapter:Gemini",
    "azure": "allm.providers.azure.adapter:AzureOpenAI",
    "mistral": "allm.providers.mistral.adapter:Mistral",
    "ollama": "allm.providers.ollama.adapter:Ollama",
    "bedrock": "allm.providers.bedrock.adapter:Bedrock",
    "vertex": "allm.providers.vertex.adapter:Vertex",
    "openai_images": "allm.providers.openai_images.adapter:OpenAIImages",
    "fake_images": "allm.providers.fake_images.adapter:FakeImages",
    "openai_embeddings": "allm.providers.openai_embeddings.adapter:OpenAIEmbeddings",
    "openai_compatible_embeddings": (
        "allm.providers.openai_embeddings.adapter:OpenAICompatibleEmbeddings"
    ),
    "gemini_embeddings": "allm.providers.gemini_embeddings.adapter:GeminiEmbeddings",
    "fake_embeddings": "allm.providers.fake_embeddings.adapter:FakeEmbeddings",
    "openai_moderation": "allm.providers.openai_moderation.adapter:OpenAIModeration",
    "fake_moderation": "allm.providers.fake_moderation.adapter:FakeModeration",
    "openai_speech": "allm.providers.openai_audio.adapter:OpenAISpeech",
    "fake_speech": "allm.providers.fake_audio.adapter:FakeSpeech",
    "openai_transcription": "allm.providers.openai_audio.adapter:OpenAITranscription",
    "gemini_transcription": "allm.providers.gemini_transcription.adapter:GeminiTranscription",
    "fake_transcription": "allm.providers.fake_audio.adapter:FakeTranscription",
}
_default_instances: dict[type[Any], Any] = {}


def register_adapter(name: str, adapter: str | type[Any]) -> None:
    """Make ``name`` resolve to ``adapter`` (a class or a ``"module:Class"`` import path)."""
    with _lock:
        _registry[name] = adapter


def registered_names() -> frozenset[str]:
    """Every name an engine may use for its adapter."""
    return frozenset(_registry)


def provider_of(name: str) -> str:
    """The provider whose settings the adapter registered as ``name`` reads: its class's ``name``
    (``"openai"`` for ``"openai_images"``), else ``name`` itself."""
    own = getattr(load_class(_registry[name]), "name", None)
    return own if isinstance(own, str) and own else name


def load_class(ref: str | type[Any]) -> type[Any]:
    if isinstance(ref, type):
        return ref
    module_name, _, qualname = ref.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    assert isinstance(target, type)
    return target


def resolve_adapter(ref: Any) -> Any:
    """The adapter object for an engine's ``adapter`` value (class, instance or name), or None.

    A class or name resolves to one shared instance per class, as a module would in Elixir.
    """
    if ref is None:
        return None
    if isinstance(ref, str):
        target = _registry.get(ref)
        if target is None:
            raise ConfigurationError(
                "invalid_adapter",
                problems=[f"unknown adapter name {ref!r}; registered: {sorted(_registry)}"],
            )
        ref = load_class(target)
    if isinstance(ref, type):
        instance = _default_instances.get(ref)
        if instance is None:
            with _lock:
                instance = _default_instances.setdefault(ref, ref())
        return instance
    return ref


def name_of(adapter: Any, callable_ref: Callable[[Any, str], str]) -> str:
    """How an engine stores ``adapter`` in JSON: a registered name, else an import path."""
    if isinstance(adapter, str):
        return adapter
    cls = adapter if isinstance(adapter, type) else type(adapter)
    for name, target in _registry.items():
        if target is cls or (
            isinstance(target, str) and target == f"{cls.__module__}:{cls.__qualname__}"
        ):
            return name
    return callable_ref(
        cls if not callable(adapter) or isinstance(adapter, type) else adapter, "adapter"
    )
