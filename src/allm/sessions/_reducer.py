"""``StreamReducer``: the fold from a chat or step event stream to ``(session, result)``."""

from __future__ import annotations

from typing import Literal

from ..collector import StreamCollector
from ..data.results import ChatResult, Session, StepResult
from ..errors import ConfigurationError, ValidationError
from ..events import Event
from ._apply import apply_chat_result, apply_step_result

__all__ = ["ReducerMode", "StreamReducer"]

ReducerMode = Literal["chat", "step"]


class StreamReducer:
    """Folds the events of a session's stream; ``finalize()`` gives ``(session, result)``.

    ``mode="chat"`` (for ``stream_start`` / ``stream_reply`` / ``stream_resume``): the session
    moved by the ``ChatCompleted`` result, or, when the stream was left before it, by the
    collector's fallback (``halted_reason="cancelled"``, or ``"error"`` if an error was seen).

    ``mode="step"`` (for ``stream_step``): ``(session, StepResult)`` once a ``StepCompleted``
    arrived, else the fallback ``ChatResult`` as in chat mode.

    The session itself changes only in ``finalize``; ``apply`` only folds. Start from the session
    the stream was opened on (``stream.session``): for ``stream_reply`` that session already holds
    the user's message, so a stream left early still keeps it.
    """

    __slots__ = ("_collector", "mode", "session")

    def __init__(
        self,
        session: Session,
        mode: ReducerMode = "chat",
        *,
        request_id: str | None = None,
    ) -> None:
        if not isinstance(session, Session):
            raise ValidationError("invalid_session", errors=[(("session",), "invalid_type")])
        if mode not in ("chat", "step"):
            raise ConfigurationError(
                "invalid_option", problems=[f'mode must be "chat" or "step", got {mode!r}']
            )
        self.session = session
        self.mode: ReducerMode = mode
        self._collector = StreamCollector(session.thread, request_id=request_id)

    def apply(self, event: Event) -> StreamReducer:
        """Fold one event; returns the reducer."""
        self._collector.apply(event)
        return self

    # The design's name for the same thing.
    apply_event = apply

    @property
    def done(self) -> bool:
        """Whether the stream's final event (``ChatCompleted`` / ``StepCompleted``) was folded."""
        if self.mode == "step":
            return bool(self._collector.steps)
        return self._collector.done

    def finalize(self) -> tuple[Session, ChatResult | StepResult]:
        """The session moved by what was folded, and the result it was moved by."""
        collector = self._collector
        if self.mode == "step" and collector.steps:
            step = collector.steps[-1]
            return apply_step_result(self.session, step), step
        result = collector.to_chat_result()
        return apply_chat_result(self.session, result), result

    def __repr__(self) -> str:
        return (
            f"StreamReducer(mode={self.mode!r}, session_id={self.session.id!r}, done={self.done})"
        )
