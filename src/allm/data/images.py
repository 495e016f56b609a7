"""Image generation requests and responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .messages import Image, ImagePart

__all__ = ["ImageOperation", "ImageRequest", "ImageResponse", "ImageUsage"]

ImageOperation = Literal["generate", "edit", "variation"]
ImageSize = tuple[int, int] | str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRequest:
    """One image operation: generate from a prompt, edit input images, or vary one image."""

    operation: ImageOperation = "generate"
    model: str | None = None
    prompt: str | None = None
    n: int = 1
    size: ImageSize = None
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    response_format: Literal["binary", "base64", "url"] = "binary"
    input_images: tuple[Image, ...] = ()
    mask: Image | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.input_images, tuple):
            object.__setattr__(self, "input_images", tuple(self.input_images))


@dataclass(frozen=True, slots=True)
class ImageUsage:
    """What an image call consumed."""

    images: int = 0
    size: str | None = None
    quality: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    total_cost: float | None = None


@dataclass(frozen=True, slots=True)
class ImageResponse:
    """The images an image call produced."""

    images: tuple[ImagePart, ...] = ()
    usage: ImageUsage = field(default_factory=ImageUsage)
    request_id: str | None = None
    model: str | None = None
    id: str | None = None
    raw: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.images, tuple):
            object.__setattr__(self, "images", tuple(self.images))
