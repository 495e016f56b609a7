"""Layer A: plain data. Frozen values that pickle and round-trip through ``allm.to_json``.

Nothing here does I/O or imports the runtime; an engine, adapters and keys live in Layer B.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names load with their module on first use: a chat call never pays for the audio, image or
# moderation values it does not touch.
if TYPE_CHECKING:
    from .audio import (
        Audio,
        SpeechRequest,
        SpeechResponse,
        Transcription,
        TranscriptionRequest,
        TranscriptSpan,
    )
    from .batch import BatchItem, BatchJob
    from .classification import Classification
    from .embeddings import EmbeddingRequest, EmbeddingResponse
    from .images import ImageOperation, ImageRequest, ImageResponse, ImageUsage
    from .messages import (
        AudioPart,
        DocumentPart,
        Image,
        ImageDetail,
        ImagePart,
        ImageSource,
        Message,
        Role,
        TextPart,
    )
    from .models import ModelRef
    from .moderation import ModerationRequest, ModerationResponse, ModerationResult
    from .request import Request, json_schema
    from .response import FinishReason, Response, TokenLogprob, Usage
    from .results import (
        RESERVED_HALT_REASONS,
        ChatResult,
        HaltReason,
        Session,
        SessionStatus,
        StepResult,
        Thread,
    )
    from .server_tools import Citation, ProviderTool, ServerToolCall
    from .tools import AskUser, Halt, Tool, ToolCall, ToolFailure

_LAZY = {
    "AskUser": "tools",
    "Audio": "audio",
    "AudioPart": "messages",
    "BatchItem": "batch",
    "BatchJob": "batch",
    "ChatResult": "results",
    "Citation": "server_tools",
    "Classification": "classification",
    "DocumentPart": "messages",
    "EmbeddingRequest": "embeddings",
    "EmbeddingResponse": "embeddings",
    "FinishReason": "response",
    "Halt": "tools",
    "HaltReason": "results",
    "Image": "messages",
    "ImageDetail": "messages",
    "ImageOperation": "images",
    "ImagePart": "messages",
    "ImageRequest": "images",
    "ImageResponse": "images",
    "ImageSource": "messages",
    "ImageUsage": "images",
    "Message": "messages",
    "ModelRef": "models",
    "ModerationRequest": "moderation",
    "ModerationResponse": "moderation",
    "ModerationResult": "moderation",
    "ProviderTool": "server_tools",
    "RESERVED_HALT_REASONS": "results",
    "Request": "request",
    "Response": "response",
    "Role": "messages",
    "ServerToolCall": "server_tools",
    "Session": "results",
    "SessionStatus": "results",
    "SpeechRequest": "audio",
    "SpeechResponse": "audio",
    "StepResult": "results",
    "TextPart": "messages",
    "Thread": "results",
    "Tool": "tools",
    "ToolCall": "tools",
    "ToolFailure": "tools",
    "TokenLogprob": "response",
    "TranscriptSpan": "audio",
    "Transcription": "audio",
    "TranscriptionRequest": "audio",
    "Usage": "response",
    "json_schema": "request",
}

__all__ = [
    "AskUser",
    "Audio",
    "AudioPart",
    "Citation",
    "DocumentPart",
    "ProviderTool",
    "ServerToolCall",
    "BatchItem",
    "BatchJob",
    "Halt",
    "ToolFailure",
    "RESERVED_HALT_REASONS",
    "ChatResult",
    "Classification",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "FinishReason",
    "HaltReason",
    "Image",
    "ImageDetail",
    "ImageOperation",
    "ImagePart",
    "ImageRequest",
    "ImageResponse",
    "ImageSource",
    "ImageUsage",
    "Message",
    "ModelRef",
    "ModerationRequest",
    "ModerationResponse",
    "ModerationResult",
    "Request",
    "Response",
    "Role",
    "Session",
    "SpeechRequest",
    "SpeechResponse",
    "SessionStatus",
    "StepResult",
    "TextPart",
    "Thread",
    "TokenLogprob",
    "Tool",
    "ToolCall",
    "TranscriptSpan",
    "Transcription",
    "TranscriptionRequest",
    "Usage",
    "json_schema",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        if name.isidentifier() and not name.startswith("_"):
            try:  # a submodule not imported yet (``allm.data.mcp``): loaded on first use
                return importlib.import_module(f"allm.data.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"allm.data.{name}":
                    raise
        raise AttributeError(f"module 'allm.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"allm.data.{module_name}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
