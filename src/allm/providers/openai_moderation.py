"""OpenAI moderation (``POST /moderations``): text and, on ``omni-moderation-*`` models, images.

A request holds either a list of texts (``input: ["...", "..."]``, one result each) or one
multi-part input (``input: [{"type": "text", ...}, {"type": "image_url", ...}]``, one result);
the façade groups the inputs that way. Images travel as their URL or a data URI. An image for a
``text-moderation-*`` model is refused before any key is resolved or byte sent.
``category_scores`` are ``ModerationResult.scores``; ``category_applied_input_types`` is kept in
the result's ``metadata["applied_input_types"]``; the answer's ``id`` in
``metadata["openai_id"]`` and the ``x-request-id`` header in ``metadata["openai_request_id"]``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from ..adapters import Call
from ..adapters.http import HttpResult
from ..data.messages import ImagePart, TextPart
from ..data.moderation import ModerationRequest, ModerationResponse, ModerationResult
from ..effects import Effect
from ..errors import FieldError, ValidationError
from .openai_rest import OpenAIRest

__all__ = ["OpenAIModeration"]


def _flags(value: Any) -> dict[str, bool] | None:
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        return None
    return {str(k): v for k, v in value.items()}


def _scores(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        return None
    return {str(k): float(v) for k, v in value.items()}


class OpenAIModeration(OpenAIRest):
    """OpenAI's moderation API (see the module doc)."""

    default_model: ClassVar[str] = "omni-moderation-latest"
    max_batch_size: ClassVar[int] = 32

    def check(self, request: ModerationRequest, call: Call) -> None:
        """Images only on omni models, and each image must be sendable; raises before I/O."""
        self.check_base_url(call)
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
                "invalid_request", f"{self.name} cannot moderate this request", errors=errors
            )

    def body(self, request: ModerationRequest) -> dict[str, Any]:
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

    def moderate(
        self, request: ModerationRequest, call: Call
    ) -> Generator[Effect, Any, ModerationResponse]:
        """Check now, resolve the key; return the plan of one exchange."""
        self.check(request, call)
        http_request = self.json_request(
            call, "/moderations", self.body(request), self.auth_headers(call)
        )
        return self._plan(request, call, http_request)

    def _plan(
        self, request: ModerationRequest, call: Call, http_request: Any
    ) -> Generator[Effect, Any, ModerationResponse]:
        document, result = yield from self.exchange(call, http_request)
        return self.parse(document, result, request, call)

    def parse(
        self, document: dict[str, Any], result: HttpResult, request: ModerationRequest, call: Call
    ) -> ModerationResponse:
        """A whole answer as a ``ModerationResponse`` (``malformed_response`` if unreadable)."""
        raw = document.get("results")
        if not isinstance(raw, list) or len(raw) != len(request.inputs):
            raise self.malformed(call, result, "the moderation answer has no result per input")
        results = []
        for index, item in enumerate(raw):
            item = item if isinstance(item, dict) else {}
            flagged = item.get("flagged")
            categories = _flags(item.get("categories"))
            scores = _scores(item.get("category_scores"))
            if not isinstance(flagged, bool) or categories is None or scores is None:
                raise self.malformed(call, result, f"results[{index}] is not a moderation result")
            found: dict[str, Any] = {}
            applied = item.get("category_applied_input_types")
            if isinstance(applied, dict):
                found["applied_input_types"] = applied
            results.append(ModerationResult(flagged, categories, scores, found))
        metadata: dict[str, Any] = {}
        if isinstance(document.get("id"), str):
            metadata["openai_id"] = document["id"]
        request_id = result.headers.get("x-request-id")
        if request_id:
            metadata["openai_request_id"] = request_id
        model = document.get("model")
        return ModerationResponse(
            tuple(results), model if isinstance(model, str) else request.model, metadata
        )
