"""The FakeImages adapter: replays an image script per call."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from ...adapters import Call
from ...data.images import ImageRequest, ImageResponse, ImageUsage
from ...effects import Effect
from ...errors import ConfigurationError, ImageAdapterError
from ..fake import CursorBook, ScriptCursor, record
from .script import (
    ALL_OPERATIONS,
    ImageEntry,
    ImageError,
    ImageOk,
    RetryUntilCall,
    parse_image_script,
)

# ------------------------------------------------------------------------------------ adapter


def _exhausted(message: str) -> ImageAdapterError:
    return ImageAdapterError(
        "unknown", message, provider="fake", metadata={"cause": "no_scripted_image"}
    )


class FakeImages:
    """The scripted image adapter. One instance keeps one cursor per engine (by engine id)."""

    name: ClassVar[str] = "fake"
    stand_in: ClassVar[bool] = True  # reads the engine's options whatever its provider (offline)

    def __init__(self, operations: Sequence[str] | None = None) -> None:
        chosen = ALL_OPERATIONS if operations is None else frozenset(operations)
        unknown = chosen - ALL_OPERATIONS
        if unknown or not chosen:
            raise ConfigurationError(
                "invalid_adapter",
                problems=[f"operations must be a non-empty subset of {sorted(ALL_OPERATIONS)}"],
            )
        self.operations = chosen
        self._cursors = CursorBook("image_script_cursor")

    def __repr__(self) -> str:
        if self.operations == ALL_OPERATIONS:
            return "FakeImages()"
        return f"FakeImages(operations={sorted(self.operations)!r})"

    def supported_operations(self) -> frozenset[str]:
        """The operations this fake serves."""
        return self.operations

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def cursor(self, call: Call) -> ScriptCursor:
        """The cursor this call advances (``attempts`` counts failures of a retry entry)."""
        return self._cursors.for_call(call)

    def generate(self, request: ImageRequest, call: Call) -> Generator[Effect, Any, ImageResponse]:
        """Reject an unsupported operation now; consume this call's entry; return its plan."""
        operation = request.operation
        if operation not in self.operations:
            raise ImageAdapterError(
                "unsupported_operation",
                f"FakeImages was set up without the {operation!r} operation",
                provider="fake",
                metadata={"operation": operation},
            )
        raw = call.opt("image_script")
        entries = None if raw is None else parse_image_script(raw)
        self._record(request, call)
        outcome = self._advance(call, entries)
        return self._plan(request, call, outcome)

    def _record(self, request: ImageRequest, call: Call) -> None:
        record(call, "image_record", request)

    def _advance(
        self, call: Call, entries: tuple[ImageEntry, ...] | None
    ) -> ImageOk | ImageAdapterError:
        if entries is None:
            return _exhausted("no scripted image: the adapter options have no image_script")
        cursor = self.cursor(call)
        with cursor._lock:
            if cursor.position < len(entries):
                entry = entries[cursor.position]
                if isinstance(entry, RetryUntilCall):
                    if cursor.attempts < entry.calls - 1:
                        cursor.attempts += 1
                        return ImageAdapterError(
                            "rate_limited",
                            "scripted transient rate limit",
                            provider="fake",
                            status=429,
                            retry_after_ms=0,
                        )
                    cursor.attempts = 0
                    cursor.position += 1
            if cursor.position >= len(entries):
                return _exhausted(f"no scripted image: all {len(entries)} entries used")
            entry = entries[cursor.position]
            cursor.position += 1
        if isinstance(entry, ImageError):
            return entry.error
        if isinstance(entry, RetryUntilCall):
            # Two retry entries in a row: the second one starts counting now.
            cursor.position -= 1
            return self._advance(call, entries)
        return entry

    def _plan(
        self, request: ImageRequest, call: Call, outcome: ImageOk | ImageAdapterError
    ) -> Generator[Effect, Any, ImageResponse]:
        yield from ()
        if isinstance(outcome, ImageAdapterError):
            raise outcome
        usage = outcome.usage or ImageUsage(images=len(outcome.images))
        values = outcome.fields
        images = tuple(
            part
            if part.image.prompt is not None or request.prompt is None
            else replace(part, image=replace(part.image, prompt=request.prompt))
            for part in outcome.images
        )
        return ImageResponse(
            images=images,
            usage=usage,
            request_id=call.request_id,
            model=values.get("model", request.model),
            id=values.get("id"),
            raw=values.get("raw"),
            metadata={**request.metadata, **dict(values.get("metadata") or {})},
        )
