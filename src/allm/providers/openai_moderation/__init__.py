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

from .adapter import DEFAULT_MODEL, MAX_BATCH, OpenAIModeration

__all__ = ["DEFAULT_MODEL", "MAX_BATCH", "OpenAIModeration"]
