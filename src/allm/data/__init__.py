"""Layer A: plain data. Frozen values that pickle and round-trip through ``allm.to_json``.

Nothing here does I/O or imports the runtime; an engine, adapters and keys live in Layer B.
"""

from .audio import (
    Audio,
    SpeechRequest,
    SpeechResponse,
    Transcription,
    TranscriptionRequest,
    TranscriptSpan,
)
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
from .response import FinishReason, Response, Usage
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

__all__ = [
    "AskUser",
    "Audio",
    "AudioPart",
    "Citation",
    "DocumentPart",
    "ProviderTool",
    "ServerToolCall",
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
    "Tool",
    "ToolCall",
    "TranscriptSpan",
    "Transcription",
    "TranscriptionRequest",
    "Usage",
    "json_schema",
]
