"""Anthropic models on Vertex AI: the Messages codec, with Vertex's body rules.

The body is the Messages API body without ``model`` (the model is in the URL) and with
``anthropic_version`` in the body instead of a header; answers and errors are Anthropic's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...adapters import Call
from ...data.request import Request
from ..anthropic import Anthropic
from ..anthropic.request import beta_headers

__all__ = ["VERTEX_ANTHROPIC_VERSION", "ClaudeOnVertex", "is_claude"]

VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
# Vertex documents one of Claude's server tools, web search, behind its own beta header
# (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/web-search).
VERTEX_BETAS = {"web_search": "web-search-2025-03-05"}


def is_claude(model: Any) -> bool:
    """Whether a model name is one of Anthropic's (served under ``publishers/anthropic``)."""
    return isinstance(model, str) and model.startswith("claude")


class ClaudeOnVertex(Anthropic):
    """The Anthropic codec under the ``vertex`` provider name (errors and events say ``vertex``).
    It sends nothing itself: the Vertex adapter owns URLs, credentials and transport."""

    name: ClassVar[str] = "vertex"
    provider_tool_kinds: ClassVar[tuple[str, ...]] = tuple(VERTEX_BETAS)

    def vertex_body(self, request: Request, call: Call, *, stream: bool) -> dict[str, Any]:
        """The ``rawPredict`` / ``streamRawPredict`` body."""
        body = self.build_body(request, call, stream=stream)
        body.pop("model", None)
        body["anthropic_version"] = VERTEX_ANTHROPIC_VERSION
        return body

    def vertex_headers(self, request: Request) -> dict[str, str]:
        """``anthropic-beta`` for the server tools Vertex gates behind a beta."""
        return beta_headers(request, VERTEX_BETAS)
