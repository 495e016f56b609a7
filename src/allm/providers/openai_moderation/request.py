"""The checks and the JSON body of one ``POST /moderations``."""

from __future__ import annotations

from typing import Any

from ...data.messages import ImagePart, TextPart
from ...data.moderation import ModerationRequest
from ...errors import FieldError, ValidationError

__all__ = ["check_request", "moderation_body"]


def check_request(request: ModerationRequest, provider: str) -> None:
    """Images only on omni models, and each image sendable; raises before any key or I/O."""
    errors: list[FieldError] = []
    text_only = (request.model or "").startswith("text-moderation")
    for index, parts in enumerate(request.inputs):
        for position, part in enumerate(parts):
            if not isinstance(part, ImagePart):
                continue
            if text_only:
                errors.append((("input", index, position), "unsupported_option"))
            elif part.image.source.type != "url" and not part.image.mime_type:
                errors.append((("input", index, position), "missing_mime_type"))
    if errors:
        raise ValidationError(
            "invalid_request", f"{provider} cannot moderate this request", errors=errors
        )


def moderation_body(request: ModerationRequest) -> dict[str, Any]:
    """``input`` as a list of texts, or as the parts of one multi-part input."""
    inputs = request.inputs
    wire: list[Any]
    if all(len(parts) == 1 and isinstance(parts[0], TextPart) for parts in inputs):
        wire = [parts[0].text for parts in inputs if isinstance(parts[0], TextPart)]
    else:
        wire = []
        for part in inputs[0]:
            if isinstance(part, TextPart):
                wire.append({"type": "text", "text": part.text})
            else:
                image = part.image
                url = image.source.value if image.source.type == "url" else image.to_data_uri()
                wire.append({"type": "image_url", "image_url": {"url": url}})
    body: dict[str, Any] = {"input": wire}
    if request.model:
        body["model"] = request.model
    body.update(request.options)
    return body
