"""OpenAI image answers: a JSON body to an ``ImageResponse``, each image in the requested form."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ...adapters import Call
from ...adapters.base import HttpSettings, json_or_none
from ...adapters.http import (
    HttpResult,
)
from ...data.images import ImageRequest, ImageResponse, ImageUsage
from ...data.messages import Image, ImagePart, ImageSource
from ...errors import ImageAdapterError
from ..wire import as_int, as_str
from .request import _dimensions, _size_text
from .settings import (
    _OUTPUT_MIME,
)


class ImagesDecode(HttpSettings):
    """Decoding an Images API answer."""

    # -- the response -----------------------------------------------------------------------------

    def parse_response(
        self, result: HttpResult, request: ImageRequest, call: Call
    ) -> ImageResponse:
        """A whole Images API body as an ``ImageResponse`` (``malformed_response`` if unreadable)."""
        body = json_or_none(result.body)
        request_id = result.headers.get("x-request-id")

        def malformed(message: str) -> ImageAdapterError:
            return ImageAdapterError(
                "malformed_response",
                message,
                provider="openai",
                status=result.status,
                metadata={"openai_request_id": request_id} if request_id else {},
            )

        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise malformed("the Images API answer has no data list")
        output_format = as_str(body.get("output_format")) or as_str(
            request.options.get("output_format")
        )
        mime = _OUTPUT_MIME.get((output_format or "png").lower(), "image/png")
        size = as_str(body.get("size")) or _size_text(request.size)
        width, height = _dimensions(size)
        parts: list[ImagePart] = []
        for index, item in enumerate(body["data"]):
            if not isinstance(item, dict):
                raise malformed(f"data[{index}] is not an object")
            image = self._image(item, request, mime, malformed, index)
            parts.append(
                ImagePart(
                    Image(
                        image.source,
                        image.mime_type,
                        width=width,
                        height=height,
                        prompt=request.prompt,
                        revised_prompt=as_str(item.get("revised_prompt")),
                    )
                )
            )
        found_usage = body.get("usage")
        raw_usage: dict[str, Any] = found_usage if isinstance(found_usage, dict) else {}
        usage = ImageUsage(
            images=len(parts),
            size=size,
            quality=as_str(body.get("quality")) or request.quality,
            input_tokens=as_int(raw_usage.get("input_tokens")),
            output_tokens=as_int(raw_usage.get("output_tokens")),
        )
        metadata = dict(request.metadata)
        if request_id:
            metadata["openai_request_id"] = request_id
        for key in ("created", "background", "output_format"):
            if body.get(key) is not None:
                metadata[key] = body[key]
        if isinstance(raw_usage.get("input_tokens_details"), dict):
            metadata["input_tokens_details"] = raw_usage["input_tokens_details"]
        return ImageResponse(
            images=tuple(parts),
            usage=usage,
            request_id=call.request_id,
            model=request.model,
            raw=body,
            metadata=metadata,
        )

    @staticmethod
    def _image(
        item: Mapping[str, Any], request: ImageRequest, mime: str, malformed: Any, index: int
    ) -> Image:
        encoded = as_str(item.get("b64_json"))
        url = as_str(item.get("url"))
        if encoded:
            if request.response_format == "base64":
                return Image.from_base64(encoded, mime)
            try:
                return Image.from_bytes(base64.b64decode(encoded, validate=True), mime)
            except (binascii.Error, ValueError) as exc:
                raise malformed(f"data[{index}].b64_json is not valid base64") from exc
        if url:
            return Image(ImageSource("url", url), mime)
        raise malformed(f"data[{index}] has neither b64_json nor url")
