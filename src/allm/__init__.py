"""allm: provider-neutral, streaming-first LLM execution.

Layers, as the folders show them:

* A, plain data (``allm.data``, ``allm.events``, ``allm.errors``, ``allm.codec``, ``allm.validate``)
* B, runtime (``allm.engine``, ``allm.adapters``, ``allm.providers``, ``allm.keys``, ``allm.retry``,
  ``allm.telemetry``, ``allm.catalog``, ``allm.config``)
* C, stateless execution (``allm.execution``): ``generate`` is the fold of ``stream_generate``.
* D, sessions (``allm.sessions``) and durable session stores (``allm.stores``).

Names are imported on first use, so ``import allm`` costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import errors, events, history, keys, middleware, sessions, stores, telemetry, validate
    from .audio import (
        AsyncSpeechStream,
        SpeechStream,
        astream_synthesize,
        asynthesize,
        atranscribe,
        stream_synthesize,
        synthesize,
        transcribe,
    )
    from .classification import aclassify, classify
    from .codec import from_json, to_json
    from .collector import StreamCollector
    from .config import configure
    from .data import (
        Audio,
        AudioPart,
        BatchItem,
        BatchJob,
        ChatResult,
        Citation,
        Classification,
        DocumentPart,
        EmbeddingRequest,
        EmbeddingResponse,
        FinishReason,
        HaltReason,
        Image,
        ImagePart,
        ImageRequest,
        ImageResponse,
        ImageUsage,
        Message,
        ModelRef,
        ModerationRequest,
        ModerationResponse,
        ModerationResult,
        ProviderTool,
        Request,
        Response,
        Role,
        ServerToolCall,
        Session,
        SessionStatus,
        SpeechRequest,
        SpeechResponse,
        StepResult,
        TextPart,
        Thread,
        TokenLogprob,
        Tool,
        ToolCall,
        Transcription,
        TranscriptionRequest,
        TranscriptSpan,
        Usage,
        json_schema,
    )
    from .data.constructors import assistant, request, system, tool_result, user
    from .data.messages import ContentPart
    from .data.reasoning import CachePoint, PromptCache, Reasoning
    from .data.steps import StepContext, StepOverrides
    from .data.tools import AskUser, Halt, ToolFailure
    from .embeddings import aembed, embed
    from .engine import Engine
    from .errors import (
        AdapterError,
        AllmError,
        ConflictError,
        CorruptSessionError,
        EngineError,
        ImageAdapterError,
        OutputValidationError,
        SchemaVersionError,
        SessionError,
        SessionNotFoundError,
        SessionStateError,
        StreamError,
        ToolError,
        ValidationError,
    )
    from .execution.api import agenerate, astream_generate, generate, stream_generate, unwrap
    from .execution.chat import achat, astep, astream, astream_step, chat, step, stream, stream_step
    from .execution.images import (
        aedit_image,
        agenerate_image,
        aimage_variation,
        edit_image,
        generate_image,
        image_request,
        image_variation,
    )
    from .execution.options import CallOptions, ChatOptions
    from .execution.streams import AsyncEventStream, EventStream
    from .limits import Limits
    from .moderation import amoderate, moderate
    from .output import OutputSpec, output
    from .tooling import ToolContext, tool

_DATA = "allm.data"
_ERRORS = "allm.errors"
_CONSTRUCTORS = "allm.data.constructors"
_API = "allm.execution.api"
_CHAT = "allm.execution.chat"
_IMAGES = "allm.execution.images"
_AUDIO = "allm.audio"

# public name -> the module that defines it
_LAZY: dict[str, str] = {
    # Layer A: data and its constructors
    "Audio": _DATA,
    "AudioPart": _DATA,
    "Citation": _DATA,
    "DocumentPart": _DATA,
    "ProviderTool": _DATA,
    "ServerToolCall": _DATA,
    "BatchItem": _DATA,
    "BatchJob": _DATA,
    "ChatResult": _DATA,
    "Classification": _DATA,
    "classify": "allm.classification",
    "aclassify": "allm.classification",
    "EmbeddingRequest": _DATA,
    "EmbeddingResponse": _DATA,
    "ModerationRequest": _DATA,
    "ModerationResponse": _DATA,
    "ModerationResult": _DATA,
    "embed": "allm.embeddings",
    "aembed": "allm.embeddings",
    "moderate": "allm.moderation",
    "amoderate": "allm.moderation",
    "ContentPart": "allm.data.messages",
    "CachePoint": "allm.data.reasoning",
    "PromptCache": "allm.data.reasoning",
    "Reasoning": "allm.data.reasoning",
    "FinishReason": _DATA,
    "HaltReason": _DATA,
    "Image": _DATA,
    "ImagePart": _DATA,
    "ImageRequest": _DATA,
    "ImageResponse": _DATA,
    "ImageUsage": _DATA,
    "Message": _DATA,
    "ModelRef": _DATA,
    "Request": _DATA,
    "Response": _DATA,
    "Role": _DATA,
    "Session": _DATA,
    "SessionStatus": _DATA,
    "SpeechRequest": _DATA,
    "SpeechResponse": _DATA,
    "StepResult": _DATA,
    "TextPart": _DATA,
    "Thread": _DATA,
    "TokenLogprob": _DATA,
    "Tool": _DATA,
    "ToolCall": _DATA,
    "TranscriptSpan": _DATA,
    "Transcription": _DATA,
    "TranscriptionRequest": _DATA,
    "Usage": _DATA,
    "assistant": _CONSTRUCTORS,
    "from_json": "allm.codec",
    "json_schema": _DATA,
    "request": _CONSTRUCTORS,
    "system": _CONSTRUCTORS,
    "to_json": "allm.codec",
    "tool": "allm.tooling",
    "output": "allm.output",
    "OutputSpec": "allm.output",
    "OutputValidationError": _ERRORS,
    "ToolContext": "allm.tooling",
    "AskUser": _DATA,
    "Halt": _DATA,
    "ToolFailure": _DATA,
    "step": _CHAT,
    "astep": _CHAT,
    "stream_step": _CHAT,
    "astream_step": _CHAT,
    "chat": _CHAT,
    "achat": _CHAT,
    "stream": _CHAT,
    "astream": _CHAT,
    "tool_result": _CONSTRUCTORS,
    "user": _CONSTRUCTORS,
    # errors
    "AdapterError": _ERRORS,
    "AllmError": _ERRORS,
    "ConflictError": _ERRORS,
    "CorruptSessionError": _ERRORS,
    "EngineError": _ERRORS,
    "ImageAdapterError": _ERRORS,
    "SchemaVersionError": _ERRORS,
    "SessionError": _ERRORS,
    "SessionNotFoundError": _ERRORS,
    "SessionStateError": _ERRORS,
    "StreamError": _ERRORS,
    "ToolError": _ERRORS,
    "ValidationError": _ERRORS,
    # Layer B
    "Engine": "allm.engine",
    "Limits": "allm.limits",
    "configure": "allm.config",
    "StepContext": "allm.data.steps",
    "StepOverrides": "allm.data.steps",
    # Layer C
    "AsyncEventStream": "allm.execution.streams",
    "EventStream": "allm.execution.streams",
    "StreamCollector": "allm.collector",
    "agenerate": _API,
    "astream_generate": _API,
    "generate": _API,
    "stream_generate": _API,
    "unwrap": _API,
    "CallOptions": "allm.execution.options",
    "ChatOptions": "allm.execution.options",
    "aedit_image": _IMAGES,
    "agenerate_image": _IMAGES,
    "aimage_variation": _IMAGES,
    "edit_image": _IMAGES,
    "generate_image": _IMAGES,
    "image_request": _IMAGES,
    "image_variation": _IMAGES,
    "AsyncSpeechStream": _AUDIO,
    "SpeechStream": _AUDIO,
    "astream_synthesize": _AUDIO,
    "asynthesize": _AUDIO,
    "atranscribe": _AUDIO,
    "stream_synthesize": _AUDIO,
    "synthesize": _AUDIO,
    "transcribe": _AUDIO,
}
_SUBMODULES = frozenset(
    {
        "adapters",
        "audio",
        "batch",
        "catalog",
        "classification",
        "codec",
        "config",
        "data",
        "effects",
        "embeddings",
        "engine",
        "errors",
        "events",
        "execution",
        "history",
        "keys",
        "limits",
        "mcp",
        "middleware",
        "moderation",
        "provider_tools",
        "providers",
        "retry",
        "sessions",
        "stores",
        "telemetry",
        "testing",
        "tooling",
        "validate",
    }
)

__all__ = [
    "AdapterError",
    "AllmError",
    "AskUser",
    "AsyncEventStream",
    "AsyncSpeechStream",
    "Audio",
    "AudioPart",
    "BatchItem",
    "BatchJob",
    "CachePoint",
    "CallOptions",
    "ChatOptions",
    "ChatResult",
    "Citation",
    "Classification",
    "ConflictError",
    "ContentPart",
    "CorruptSessionError",
    "DocumentPart",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Engine",
    "EngineError",
    "EventStream",
    "FinishReason",
    "Halt",
    "HaltReason",
    "Image",
    "ImageAdapterError",
    "ImagePart",
    "ImageRequest",
    "ImageResponse",
    "ImageUsage",
    "Limits",
    "Message",
    "ModelRef",
    "ModerationRequest",
    "ModerationResponse",
    "ModerationResult",
    "OutputSpec",
    "OutputValidationError",
    "PromptCache",
    "ProviderTool",
    "Reasoning",
    "Request",
    "Response",
    "Role",
    "SchemaVersionError",
    "ServerToolCall",
    "Session",
    "SessionError",
    "SessionNotFoundError",
    "SessionStateError",
    "SessionStatus",
    "SpeechRequest",
    "SpeechResponse",
    "SpeechStream",
    "StepContext",
    "StepOverrides",
    "StepResult",
    "StreamCollector",
    "StreamError",
    "TextPart",
    "Thread",
    "TokenLogprob",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolFailure",
    "TranscriptSpan",
    "Transcription",
    "TranscriptionRequest",
    "Usage",
    "ValidationError",
    "__version__",
    "achat",
    "aclassify",
    "aedit_image",
    "aembed",
    "agenerate",
    "agenerate_image",
    "aimage_variation",
    "amoderate",
    "assistant",
    "astep",
    "astream",
    "astream_generate",
    "astream_step",
    "astream_synthesize",
    "asynthesize",
    "atranscribe",
    "audio",
    "chat",
    "classify",
    "configure",
    "edit_image",
    "embed",
    "errors",
    "events",
    "from_json",
    "generate",
    "generate_image",
    "history",
    "image_request",
    "image_variation",
    "json_schema",
    "keys",
    "middleware",
    "moderate",
    "output",
    "request",
    "sessions",
    "step",
    "stores",
    "stream",
    "stream_generate",
    "stream_step",
    "stream_synthesize",
    "synthesize",
    "system",
    "telemetry",
    "to_json",
    "tool",
    "tool_result",
    "transcribe",
    "unwrap",
    "user",
    "validate",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"allm.{name}")
    else:
        raise AttributeError(f"module 'allm' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
