"""Image script entries (``ok``, ``error``, ``retry_until_call``), their parsing, and ``png`` test pictures."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ...data.images import ImageUsage
from ...data.messages import Image, ImagePart
from ...errors import ConfigurationError, ImageAdapterError

ALL_OPERATIONS = frozenset({"generate", "edit", "variation"})
_USAGE_FIELDS = frozenset(f.name for f in fields(ImageUsage))
_OK_FIELDS = frozenset({"usage", "id", "model", "raw", "metadata"})
_ERROR_FIELDS = frozenset({"message", "status", "retry_after_ms", "metadata"})


# ------------------------------------------------------------------------------------ entries


@dataclass(frozen=True, slots=True)
class ImageOk:
    """One call's images (and optional usage and response fields)."""

    images: tuple[ImagePart, ...]
    usage: ImageUsage | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageError:
    """One call's failure."""

    error: ImageAdapterError


@dataclass(frozen=True, slots=True)
class RetryUntilCall:
    """Fail the next ``calls - 1`` calls with ``rate_limited``, then serve the next entry."""

    calls: int


ImageEntry = ImageOk | ImageError | RetryUntilCall


def _as_part(value: Any, where: str, problems: list[str]) -> ImagePart | None:
    if isinstance(value, ImagePart):
        return value
    if isinstance(value, Image):
        return ImagePart(value)
    problems.append(f"{where}: an image must be an ImagePart or an Image, got {value!r}")
    return None


def _as_usage(value: Any, where: str, problems: list[str]) -> ImageUsage | None:
    if value is None or isinstance(value, ImageUsage):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - _USAGE_FIELDS
        if unknown:
            problems.append(f"{where}: usage has unknown field(s) {sorted(unknown)}")
            return None
        return ImageUsage(**value)
    problems.append(f"{where}: usage must be an ImageUsage or a mapping, got {value!r}")
    return None


def ok(
    *images: ImagePart | Image, usage: ImageUsage | Mapping[str, Any] | None = None, **values: Any
) -> ImageOk:
    """A call that returns ``images``."""
    problems: list[str] = []
    entry = _ok_entry(list(images), {"usage": usage, **values}, "ok()", problems)
    if entry is None:
        raise ConfigurationError("invalid_script", problems=problems)
    return entry


def _ok_entry(
    images: Any, values: Mapping[str, Any], where: str, problems: list[str]
) -> ImageOk | None:
    before = len(problems)
    if not isinstance(images, Sequence) or isinstance(images, str | bytes):
        problems.append(f"{where}: images must be a list, got {images!r}")
        return None
    parts = [_as_part(item, f"{where}[{i}]", problems) for i, item in enumerate(images)]
    unknown = set(values) - _OK_FIELDS
    if unknown:
        problems.append(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(_OK_FIELDS)}")
    usage = _as_usage(values.get("usage"), where, problems)
    if len(problems) != before:
        return None
    extra = {k: v for k, v in values.items() if k != "usage" and v is not None}
    return ImageOk(tuple(p for p in parts if p is not None), usage, extra)


def error(reason: str | ImageAdapterError = "unknown", **values: Any) -> ImageError:
    """A call that fails with ``ImageAdapterError(reason, **values)``."""
    problems: list[str] = []
    entry = _error_entry(reason, values, "error()", problems)
    if entry is None:
        raise ConfigurationError("invalid_script", problems=problems)
    return entry


def _error_entry(
    reason: Any, values: Mapping[str, Any], where: str, problems: list[str]
) -> ImageError | None:
    if isinstance(reason, ImageAdapterError):
        if values:
            problems.append(f"{where}: give either an ImageAdapterError or a reason with fields")
            return None
        return ImageError(reason)
    if not isinstance(reason, str) or reason not in ImageAdapterError.reasons:
        problems.append(
            f"{where}: unknown image error reason {reason!r}; "
            f"known: {sorted(ImageAdapterError.reasons)}"
        )
        return None
    unknown = set(values) - _ERROR_FIELDS
    if unknown:
        problems.append(f"{where}: unknown error field(s) {sorted(unknown)}")
        return None
    return ImageError(ImageAdapterError(reason, provider="fake", **values))


def retry_until_call(calls: int) -> RetryUntilCall:
    """Fail the next ``calls - 1`` calls with a retryable ``rate_limited``."""
    problems: list[str] = []
    entry = _retry_entry(calls, "retry_until_call()", problems)
    if entry is None:
        raise ConfigurationError("invalid_script", problems=problems)
    return entry


def _retry_entry(calls: Any, where: str, problems: list[str]) -> RetryUntilCall | None:
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
        problems.append(f"{where}: retry_until_call needs a positive int, got {calls!r}")
        return None
    return RetryUntilCall(calls)


def _parse_entry(raw: Any, where: str, problems: list[str]) -> ImageEntry | None:
    if isinstance(raw, ImageOk | ImageError | RetryUntilCall):
        return raw
    if not isinstance(raw, tuple) or not raw or not isinstance(raw[0], str):
        problems.append(f"{where}: not an image script entry: {raw!r}")
        return None
    kind, args = raw[0], raw[1:]
    if kind == "ok" and len(args) in (1, 2):
        values = args[1] if len(args) == 2 else {}
        if not isinstance(values, Mapping):
            problems.append(f"{where}: the third element of an 'ok' entry must be a mapping")
            return None
        return _ok_entry(args[0], values, where, problems)
    if kind == "error" and len(args) in (1, 2):
        values = args[1] if len(args) == 2 else {}
        if not isinstance(values, Mapping):
            problems.append(f"{where}: the third element of an 'error' entry must be a mapping")
            return None
        return _error_entry(args[0], values, where, problems)
    if kind == "retry_until_call" and len(args) == 1:
        return _retry_entry(args[0], where, problems)
    problems.append(f"{where}: unknown or malformed image script entry {raw!r}")
    return None


def parse_image_script(raw: Any, where: str = "image_script") -> tuple[ImageEntry, ...]:
    """Check an image script, listing every problem at once; return its entries."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ConfigurationError("invalid_script", problems=[f"{where}: must be a list of entries"])
    problems: list[str] = []
    entries = [_parse_entry(item, f"{where}[{i}]", problems) for i, item in enumerate(raw)]
    if problems:
        raise ConfigurationError("invalid_script", problems=problems)
    return tuple(entry for entry in entries if entry is not None)


# ------------------------------------------------------------------------------------ PNG helper


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(width: int = 8, height: int = 8, color: tuple[int, int, int] = (64, 128, 255)) -> bytes:
    """A valid PNG of one solid RGB colour (no dependency; for scripts, tests and examples)."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    row = b"\x00" + bytes(color) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )
