"""The FakeModeration adapter (see the package doc)."""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

from ...adapters import Call
from ...data.messages import TextPart
from ...data.moderation import ModerationRequest, ModerationResponse, ModerationResult
from ...effects import Effect
from ...errors import ConfigurationError
from ..fake.surfaces import ScriptedFake, error, ok, retry_until_call

__all__ = ["DEFAULT_FLAG_WORDS", "FakeModeration", "error", "ok", "retry_until_call"]

DEFAULT_FLAG_WORDS = ("flagme",)


class FakeModeration(ScriptedFake[ModerationResponse]):
    """The deterministic, scriptable moderation adapter."""

    name: ClassVar[str] = "fake"
    script_option: ClassVar[str] = "moderation_script"
    record_option: ClassVar[str] = "moderation_record"
    default_model: ClassVar[str] = "fake-moderation"
    max_batch_size: ClassVar[int] = 32

    def moderate(
        self, request: ModerationRequest, call: Call
    ) -> Generator[Effect, Any, ModerationResponse]:
        """This request's answer: scripted, or computed from the inputs."""
        return self.serve(request, call)

    def default(self, request: ModerationRequest, call: Call) -> ModerationResponse:
        """Flag-word verdicts, one per input."""
        words = tuple(call.opt("moderation_flag_words", DEFAULT_FLAG_WORDS))
        results = []
        for parts in request.inputs:
            text = " ".join(part.text for part in parts if isinstance(part, TextPart)).lower()
            found = set(re.findall(r"[\w-]+", text))
            categories = {word: word.lower() in found for word in words}
            scores = {word: 1.0 if hit else 0.0 for word, hit in categories.items()}
            results.append(ModerationResult(any(categories.values()), categories, scores))
        return ModerationResponse(tuple(results), request.model, {})

    def answer(self, request: ModerationRequest, value: Any) -> ModerationResponse:
        """A scripted list of results, one per input of the request."""
        if (
            not isinstance(value, Sequence)
            or len(value) != len(request.inputs)
            or not all(isinstance(item, ModerationResult) for item in value)
        ):
            raise ConfigurationError(
                "invalid_script",
                problems=[
                    f"a moderation entry must hold {len(request.inputs)} ModerationResult(s), "
                    f"got {value!r:.80}"
                ],
            )
        return ModerationResponse(tuple(value), request.model, {})
