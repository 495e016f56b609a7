"""Vertex AI (Google Cloud): Gemini models, and Anthropic's Claude models, with google-auth.

What it does: sends Gemini's ``generateContent`` / ``streamGenerateContent?alt=sse`` body (built and
decoded by the Gemini codec) to ``publishers/google/models/{model}`` of a project and location,
and Claude's Messages body (the Anthropic codec, ``anthropic_version`` in the body, no ``model``)
to ``publishers/anthropic/models/{model}:rawPredict`` / ``:streamRawPredict``; authorizes with an
OAuth access token from google-auth credentials (refreshed off the event loop, cached until it
expires), or with an express mode API key. What it does not do: I/O of its own (the drivers send
the HTTP; the token refresh is an effect), Vertex endpoints other than the publisher models.
The choices made are in ``docs/design/providers-vertex.md``.
"""

from __future__ import annotations

from .adapter import DEFAULT_LOCATION, EXPRESS_BASE_URL, Vertex
from .auth import SCOPES, AccessToken
from .claude import VERTEX_ANTHROPIC_VERSION

__all__ = [
    "DEFAULT_LOCATION",
    "EXPRESS_BASE_URL",
    "SCOPES",
    "VERTEX_ANTHROPIC_VERSION",
    "AccessToken",
    "Vertex",
]
