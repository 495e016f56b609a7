"""The OpenAI moderation adapter: pre-flight, then one exchange through ``OpenAIRest``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.http import HttpRequest
from ...data.moderation import ModerationRequest, ModerationResponse
from ...effects import Effect
from ..openai.rest import OpenAIRest
from .decode import parse_moderation
from .request import check_request, moderation_body

__all__ = ["DEFAULT_MODEL", "MAX_BATCH", "OpenAIModeration"]

DEFAULT_MODEL = "omni-moderation-latest"
MAX_BATCH = 32  # allm's choice: the API states no limit on texts per request


class OpenAIModeration(OpenAIRest):
    """OpenAI's moderation API (see the package doc)."""

    default_model: ClassVar[str] = DEFAULT_MODEL
    max_batch_size: ClassVar[int] = MAX_BATCH

    def check(self, request: ModerationRequest, call: Call) -> None:
        """The per-request rules; raises before any key or I/O."""
        self.check_base_url(call)
        check_request(request, self.name)

    def moderate(
        self, request: ModerationRequest, call: Call
    ) -> Generator[Effect, Any, ModerationResponse]:
        """Check now, resolve the key; return the plan of one exchange."""
        self.check(request, call)
        http_request = self.json_request(
            call, "/moderations", moderation_body(request), self.auth_headers(call)
        )
        return self._plan(request, call, http_request)

    def _plan(
        self, request: ModerationRequest, call: Call, http_request: HttpRequest
    ) -> Generator[Effect, Any, ModerationResponse]:
        document, result = yield from self.exchange(call, http_request)
        return parse_moderation(
            document, result, request, lambda message: self.malformed(call, result, message)
        )
