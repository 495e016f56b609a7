"""allm: provider-neutral, streaming-first LLM execution.

Layers, as the folders show them:

* A, plain data (``allm.data``, ``allm.events``, ``allm.errors``, ``allm.codec``, ``allm.validate``)
* B, runtime (``allm.engine``, ``allm.adapters``, ``allm.providers``, ``allm.keys``, ``allm.retry``,
  ``allm.telemetry``, ``allm.catalog``, ``allm.config``)
* C, stateless execution (``allm.execution``): ``generate`` is the fold of ``stream_generate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors, events, keys, telemetry, validate
from ._version import __version__
from .codec import from_json, to_json
from .config import configure
from .data import (
    ChatResult,
    FinishReason,
    HaltReason,
    Image,
    ImagePart,
    ImageRequest,
    ImageResponse,
    ImageUsage,
    Message,
    ModelRef,
    Request,
    Response,
    Role,
    Session,
    SessionStatus,
    StepResult,
    TextPart,
    Thread,
    Tool,
    ToolCall,
    Usage,
    json_schema,
)
from .data.messages import ContentPart, tool_result_content
from .engine import Engine
from .errors import (
    AdapterError,
    AllmError,
    EngineError,
    ImageAdapterError,
    SessionError,
    SessionStateError,
    StreamError,
    ToolError,
    ValidationError,
)
from .execution.api import agenerate, astream_generate, generate, stream_generate, unwrap
from .execution.collector import StreamCollector
from .execution.streams import AsyncEventStream, EventStream

__all__ = [
    # Layer A: data and its constructors
    "ChatResult",
    "ContentPart",
    "FinishReason",
    "HaltReason",
    "Image",
    "ImagePart",
    "ImageRequest",
    "ImageResponse",
    "ImageUsage",
    "Message",
    "ModelRef",
    "Request",
    "Response",
    "Role",
    "Session",
    "SessionStatus",
    "StepResult",
    "TextPart",
    "Thread",
    "Tool",
    "ToolCall",
    "Usage",
    "assistant",
    "from_json",
    "json_schema",
    "request",
    "system",
    "to_json",
    "tool",
    "tool_result",
    "user",
    # errors
    "AdapterError",
    "AllmError",
    "EngineError",
    "ImageAdapterError",
    "SessionError",
    "SessionStateError",
    "StreamError",
    "ToolError",
    "ValidationError",
    # Layer B
    "Engine",
    "configure",
    # Layer C
    "AsyncEventStream",
    "EventStream",
    "StreamCollector",
    "agenerate",
    "astream_generate",
    "generate",
    "stream_generate",
    "unwrap",
    # submodules
    "errors",
    "events",
    "keys",
    "telemetry",
    "validate",
    "__version__",
]


def system(text: str) -> Message:
    """A system message."""
    return Message(Role.SYSTEM, text)


def user(content: str | Sequence[ContentPart]) -> Message:
    """A user message: text, or a list of ``TextPart`` / ``ImagePart``."""
    return Message(Role.USER, content if isinstance(content, str) else tuple(content))


def assistant(content: str | Sequence[ContentPart]) -> Message:
    """An assistant message."""
    return Message(Role.ASSISTANT, content if isinstance(content, str) else tuple(content))


def tool_result(tool_call_id: str, content: Any) -> Message:
    """A tool message answering ``tool_call_id``; a mapping (or any JSON value) becomes JSON text."""
    return Message(Role.TOOL, tool_result_content(content), tool_call_id=tool_call_id)


def tool(
    *,
    name: str,
    description: str,
    schema: Mapping[str, Any],
    handler: Any = None,
    manual: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> Tool:
    """A tool definition. ``name``, ``description`` and ``schema`` are required."""
    return Tool(name, description, dict(schema), handler, manual, dict(metadata or {}))


def request(messages: Sequence[Message] | Thread, **fields: Any) -> Request:
    """A ``Request`` (not validated; the runner validates before sending)."""
    if isinstance(messages, Thread):
        messages = messages.messages
    return Request(messages=tuple(messages), **fields)
