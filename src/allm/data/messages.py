"""Messages and their content parts."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from ..errors import ValidationError
from .reasoning import CachePoint
from .tools import ToolCall

__all__ = [
    "AUDIO_MIME_BY_EXTENSION",
    "DOCUMENT_MIME_BY_EXTENSION",
    "IMAGE_MIME_BY_EXTENSION",
    "AudioPart",
    "Content",
    "ContentPart",
    "DocumentPart",
    "Image",
    "ImageDetail",
    "ImagePart",
    "ImageSource",
    "Message",
    "Role",
    "TextPart",
]


class Role(str, Enum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"

    def __str__(self) -> str:
        return self.value


IMAGE_MIME_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}

DOCUMENT_MIME_BY_EXTENSION = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".html": "text/html",
}

AUDIO_MIME_BY_EXTENSION = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
}

ImageDetail = Literal["auto", "low", "high"]
SourceKind = Literal["binary", "base64", "url", "file", "text"]


@dataclass(frozen=True, slots=True)
class ImageSource:
    """Where an image's bytes are: in memory, base64 text, a URL, or a file path."""

    type: SourceKind
    value: bytes | str


def _source_error(reason: str, message: str | None = None) -> ValidationError:
    return ValidationError("invalid_message", message, errors=[(("source",), reason)])


@dataclass(frozen=True, slots=True)
class Image:
    """An image, for vision input or as generated output. Constructors never do I/O."""

    source: ImageSource
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    prompt: str | None = None
    revised_prompt: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], mime_type: str | None = None) -> Image:
        """An image read lazily from ``path``; the MIME type comes from the extension."""
        path = os.fspath(path)
        if mime_type is None:
            mime_type = IMAGE_MIME_BY_EXTENSION.get(os.path.splitext(path)[1].lower())
        return cls(ImageSource("file", path), mime_type)

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str) -> Image:
        """An image held in memory."""
        return cls(ImageSource("binary", bytes(data)), mime_type)

    from_binary = from_bytes

    @classmethod
    def from_base64(cls, data: str, mime_type: str) -> Image:
        """An image given as base64 text (sent on without re-encoding)."""
        return cls(ImageSource("base64", data), mime_type)

    @classmethod
    def from_url(cls, url: str) -> Image:
        """An image at a URL; allm never fetches it, the provider does."""
        return cls(ImageSource("url", url), None)

    @classmethod
    def from_data_uri(cls, uri: str) -> Image:
        """An image from ``data:<mime>;base64,<data>``."""
        head, sep, data = uri.partition(",")
        if not (sep and head.startswith("data:") and head.endswith(";base64")):
            raise _source_error("invalid_data_uri", f"not a base64 data URI: {uri[:40]!r}")
        mime_type = head[len("data:") : -len(";base64")] or None
        return cls(ImageSource("base64", data), mime_type)

    def to_bytes(self) -> bytes:
        """The image's bytes. Reads a file source; a URL source raises ``remote_source``."""
        kind, value = self.source.type, self.source.value
        if kind == "binary":
            assert isinstance(value, bytes)
            return value
        if kind == "base64":
            assert isinstance(value, str)
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _source_error("invalid_base64") from exc
        if kind == "file":
            assert isinstance(value, str)
            with open(value, "rb") as handle:
                return handle.read()
        raise _source_error("remote_source", "an image at a URL has no local bytes")

    to_binary = to_bytes

    def to_data_uri(self) -> str:
        """``data:<mime>;base64,<data>``; a base64 source is forwarded without re-encoding."""
        if self.source.type == "url":
            raise _source_error("remote_source", "an image at a URL has no data URI")
        if not self.mime_type:
            raise _source_error("missing_mime_type", "the image has no MIME type")
        if self.source.type == "base64":
            data = str(self.source.value)
        else:
            data = base64.b64encode(self.to_bytes()).decode("ascii")
        return f"data:{self.mime_type};base64,{data}"


@dataclass(frozen=True, slots=True)
class TextPart:
    """A piece of text content."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image inside a message. ``detail`` is honoured by OpenAI and ignored elsewhere."""

    image: Image
    detail: ImageDetail = "auto"
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, detail: ImageDetail = "auto") -> ImagePart:
        """An image part read lazily from a file."""
        return cls(Image.from_file(path), detail)

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str, *, detail: ImageDetail = "auto") -> ImagePart:
        """An image part from bytes in memory."""
        return cls(Image.from_bytes(data, mime_type), detail)

    @classmethod
    def from_url(cls, url: str, *, detail: ImageDetail = "auto") -> ImagePart:
        """An image part the provider fetches from a URL."""
        return cls(Image.from_url(url), detail)

    @classmethod
    def from_data_uri(cls, uri: str, *, detail: ImageDetail = "auto") -> ImagePart:
        """An image part from a ``data:`` URI."""
        return cls(Image.from_data_uri(uri), detail)

    @property
    def mime_type(self) -> str | None:
        """The image's MIME type, if known."""
        return self.image.mime_type

    def to_data_uri(self) -> str:
        """The image as a ``data:`` URI."""
        return self.image.to_data_uri()


def _file_source(path: str | os.PathLike[str], table: Mapping[str, str]) -> tuple[str, str | None]:
    path = os.fspath(path)
    return path, table.get(os.path.splitext(path)[1].lower())


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A document inside a message: a PDF or plain text, as bytes, a file, a URL or text.

    ``source.type`` is ``"text"`` for inline text (``from_text``); ``name`` is the file name or
    title the provider shows the model. Constructors never do I/O.
    """

    source: ImageSource
    mime_type: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], mime_type: str | None = None) -> DocumentPart:
        """A document read lazily from ``path``; the MIME type comes from the extension."""
        where, guessed = _file_source(path, DOCUMENT_MIME_BY_EXTENSION)
        return cls(ImageSource("file", where), mime_type or guessed, os.path.basename(where))

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str, name: str | None = None) -> DocumentPart:
        """A document held in memory."""
        return cls(ImageSource("binary", bytes(data)), mime_type, name)

    @classmethod
    def from_url(cls, url: str, mime_type: str | None = None) -> DocumentPart:
        """A document at a URL; allm never fetches it, the provider does."""
        return cls(ImageSource("url", url), mime_type)

    @classmethod
    def from_text(cls, text: str, name: str | None = None) -> DocumentPart:
        """A plain-text document given inline."""
        return cls(ImageSource("text", text), "text/plain", name)

    @property
    def text(self) -> str | None:
        """The inline text of a ``from_text`` document, else ``None``."""
        return str(self.source.value) if self.source.type == "text" else None

    def to_bytes(self) -> bytes:
        """The document's bytes (text is UTF-8 encoded); a URL source raises ``remote_source``."""
        if self.source.type == "text":
            return str(self.source.value).encode("utf-8")
        return Image(self.source, self.mime_type).to_bytes()

    def to_base64(self) -> str:
        """The document's bytes as base64 text."""
        if self.source.type == "base64":
            return str(self.source.value)
        return base64.b64encode(self.to_bytes()).decode("ascii")

    def to_data_uri(self) -> str:
        """``data:<mime>;base64,<data>``."""
        return f"data:{self.mime_type or 'application/octet-stream'};base64,{self.to_base64()}"


@dataclass(frozen=True, slots=True)
class AudioPart:
    """Audio inside a message (a recording the model listens to). Constructors never do I/O."""

    source: ImageSource
    mime_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], mime_type: str | None = None) -> AudioPart:
        """Audio read lazily from ``path``; the MIME type comes from the extension."""
        where, guessed = _file_source(path, AUDIO_MIME_BY_EXTENSION)
        return cls(ImageSource("file", where), mime_type or guessed)

    @classmethod
    def from_bytes(cls, data: bytes, mime_type: str) -> AudioPart:
        """Audio held in memory."""
        return cls(ImageSource("binary", bytes(data)), mime_type)

    @property
    def format(self) -> str | None:
        """The short format name OpenAI's ``input_audio`` takes (``"wav"``, ``"mp3"``, ...)."""
        if not self.mime_type:
            return None
        sub = self.mime_type.split("/", 1)[-1].lower()
        return {"mpeg": "mp3", "x-wav": "wav", "wave": "wav"}.get(sub, sub)

    def to_base64(self) -> str:
        """The audio's bytes as base64 text."""
        if self.source.type == "base64":
            return str(self.source.value)
        return base64.b64encode(Image(self.source, self.mime_type).to_bytes()).decode("ascii")


ContentPart = TextPart | ImagePart | DocumentPart | AudioPart | CachePoint
Content = str | tuple[ContentPart, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation.

    ``content`` is a string or a tuple of parts. An assistant message that called tools carries
    them in ``tool_calls``; a tool message names the call it answers in ``tool_call_id``.
    """

    role: Role | str
    content: Content
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Lists are accepted for convenience; values stay immutable and compare after a round trip.
        if isinstance(self.content, list):
            object.__setattr__(self, "content", tuple(self.content))
        if not isinstance(self.tool_calls, tuple):
            object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if type(self.role) is str:
            try:
                object.__setattr__(self, "role", Role(self.role))
            except ValueError:
                pass  # left as is; validation reports ("role", "unknown")

    @staticmethod
    def normalize_content(content: str | Sequence[ContentPart]) -> tuple[ContentPart, ...]:
        """Content as a tuple of parts: a string becomes one ``TextPart``."""
        if isinstance(content, str):
            return (TextPart(content),)
        return tuple(content)

    @property
    def text(self) -> str:
        """The message's text: the string content, or its text parts joined by newlines."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content if isinstance(part, TextPart))


def tool_result_content(content: Any) -> Content:
    """Content for a tool message: strings and part lists pass, mappings become JSON text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple) and all(
        isinstance(part, TextPart | ImagePart) for part in content
    ):
        return tuple(content)
    from .._json import dumps

    if isinstance(content, Mapping):
        return dumps(dict(content))
    return dumps(content)
