"""Image request building: form fields for the kit's multipart bodies, sizes, input images read
or measured."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..._json import dumps
from ...adapters import Call
from ...adapters.base import HttpSettings
from ...adapters.http import (
    HttpRequest,
)
from ...adapters.multipart import Upload, multipart_body
from ...data.images import ImageRequest
from ...data.messages import Image
from ...errors import ValidationError
from .errors import _invalid
from .settings import (
    _EXTENSIONS,
    _GPT_IMAGE,
    _PATHS,
    _SIZE,
    model_rule,
)


def _size_text(size: Any) -> str | None:
    if size is None:
        return None
    if isinstance(size, tuple) and len(size) == 2:
        return f"{int(size[0])}x{int(size[1])}"
    return str(size)


def _dimensions(size: Any) -> tuple[int | None, int | None]:
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _local_size(image: Image) -> int | None:
    kind, value = image.source.type, image.source.value
    if kind == "binary":
        return len(value)
    if kind == "base64":
        return len(str(value)) * 3 // 4
    if kind == "file":
        try:
            return os.path.getsize(str(value))
        except OSError:
            return None
    return None


def _read(image: Image) -> bytes:
    try:
        return image.to_bytes()
    except (OSError, ValidationError) as exc:
        raise _invalid(f"cannot read an input image: {exc}") from exc


class ImagesRequest(HttpSettings):
    """Building an Images API request: JSON or multipart form fields."""

    # -- the request ------------------------------------------------------------------------------

    def build_request(
        self,
        request: ImageRequest,
        call: Call,
        headers: Mapping[str, str],
        inputs: Sequence[tuple[bytes, str | None]] = (),
    ) -> HttpRequest:
        """The HTTP request: JSON for generation, multipart for edits and variations.

        ``inputs`` are the bytes and MIME types of the input images, then the mask.
        """
        url = self.base(call) + _PATHS[request.operation]
        fields = self.body_fields(request)
        if request.operation == "generate":
            merged = {"content-type": "application/json", **headers}
            body = dumps(dict(fields)).encode("utf-8")
            return HttpRequest("POST", url, tuple(merged.items()), body)
        files: list[Upload] = []
        count = len(request.input_images)
        name = "image" if count == 1 else "image[]"
        for index, (data, mime) in enumerate(inputs):
            if index < count:
                mime = mime or "image/png"
                files.append(
                    Upload(name, f"image_{index}.{_EXTENSIONS.get(mime, 'png')}", mime, data)
                )
            else:
                files.append(Upload("mask", "mask.png", mime or "image/png", data))
        content_type, body = multipart_body(list(fields.items()), files)
        merged = {"content-type": content_type, **headers}
        return HttpRequest("POST", url, tuple(merged.items()), body)

    def body_fields(self, request: ImageRequest) -> dict[str, Any]:
        """The request's fields as the API names them (``options`` merged last)."""
        rule = model_rule(request.model)
        gpt_image = rule is _GPT_IMAGE
        fields: dict[str, Any] = {}
        if request.model:
            fields["model"] = request.model
        if request.operation != "variation" and request.prompt is not None:
            fields["prompt"] = request.prompt
        fields["n"] = request.n
        size = _size_text(request.size)
        if size is not None:
            fields["size"] = size
        if request.operation != "variation":
            for name in ("quality", "style", "background"):
                value = getattr(request, name)
                if value is not None:
                    fields[name] = value
        if not gpt_image:
            fields["response_format"] = "url" if request.response_format == "url" else "b64_json"
        fields.update(request.options)
        return fields
