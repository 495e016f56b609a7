"""How a chat or step result moves a session (design §17.3), and the status checks of §17.2."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import validate
from ..data.response import FinishReason
from ..data.results import ChatResult, HaltReason, Session, SessionStatus, StepResult
from ..data.tools import ToolCall
from ..errors import SessionError, SessionStateError

__all__ = ["apply_chat_result", "apply_step_result", "check_session", "illegal"]


def _cleared(session: Session, result_metadata: dict[str, Any], thread: Any) -> Session:
    return replace(
        session,
        thread=thread,
        pending_tool_calls=(),
        pending_question=None,
        pending_tool_call_id=None,
        metadata={**session.metadata, **result_metadata},
    )


def _tool_error(metadata: dict[str, Any]) -> Any:
    """The error a tool_error halt leaves: the callable's lifted exception, else the halt facts."""
    exception = metadata.get("on_tool_error_exception")
    if exception is not None:
        return exception
    return {
        "halted_reason": HaltReason.TOOL_ERROR.value,
        "halt_tool_call_id": metadata.get("halt_tool_call_id"),
    }


def _with_error(session: Session, error: Any) -> Session:
    return replace(
        session, status=SessionStatus.ERROR, metadata={**session.metadata, "error": error}
    )


def _awaiting_tools(session: Session, calls: tuple[ToolCall, ...]) -> Session:
    if not calls:  # nothing to wait for: the loop simply ended
        return replace(session, status=SessionStatus.COMPLETED)
    return replace(session, status=SessionStatus.AWAITING_TOOLS, pending_tool_calls=calls)


def apply_chat_result(session: Session, result: ChatResult) -> Session:
    """``session`` moved by a chat result: the result's thread, pending fields set anew, the
    result's metadata merged in, and the status its ``halted_reason`` calls for."""
    base = _cleared(session, dict(result.metadata), result.thread)
    reason = result.halted_reason
    if reason == HaltReason.ASK_USER:
        return replace(
            base,
            status=SessionStatus.AWAITING_USER,
            pending_question=result.pending_question,
            pending_tool_call_id=result.pending_tool_call_id,
        )
    if reason == HaltReason.MANUAL_TOOL_CALLS:
        calls = tuple(result.metadata.get("manual_tool_calls") or ())
        if not calls and result.final_response is not None:
            calls = result.final_response.tool_calls
        return _awaiting_tools(base, calls)
    if reason == HaltReason.TOOL_ERROR:
        return _with_error(base, _tool_error(dict(result.metadata)))
    if reason == HaltReason.ERROR:
        return _with_error(base, result.metadata.get("error"))
    # completed, max_turns, halt_when, cancelled and a handler's own halt reasons
    return replace(base, status=SessionStatus.COMPLETED)


def apply_step_result(session: Session, result: StepResult) -> Session:
    """``session`` moved by one step: ask-user, a tool error, manual calls, an error finish,
    ``done`` (completed) or, for an auto tool turn that needs another step, ``idle``."""
    metadata = dict(result.metadata)
    base = _cleared(session, metadata, result.thread)
    halted = metadata.get("halted_reason")
    finish = result.response.finish_reason
    if halted == HaltReason.ASK_USER:
        return replace(
            base,
            status=SessionStatus.AWAITING_USER,
            pending_question=metadata.get("pending_question"),
            pending_tool_call_id=metadata.get("pending_tool_call_id"),
        )
    if halted == HaltReason.TOOL_ERROR:
        return _with_error(base, _tool_error(metadata))
    manual = tuple(metadata.get("manual_tool_calls") or ())
    if manual:
        return _awaiting_tools(base, manual)
    if metadata.get("mode") == "manual" and finish is FinishReason.TOOL_CALLS:
        return _awaiting_tools(base, result.response.tool_calls)
    if finish is FinishReason.ERROR:
        return _with_error(base, result.response.metadata.get("error"))
    if result.done:
        return replace(base, status=SessionStatus.COMPLETED)
    return replace(base, status=SessionStatus.IDLE)


# -- status checks ----------------------------------------------------------------------------


def check_session(value: Any, operation: str) -> Session:
    """``value`` as a session an operation may start from: refuse the error state (data, not a
    programmer error), then validate it."""
    if isinstance(value, Session) and value.status == SessionStatus.ERROR:
        raise SessionError(
            "session_in_error_state",
            f"session {value.id!r} is in the error state: {operation} is refused",
            metadata={"session_id": value.id, "operation": operation},
            cause=value.metadata.get("error"),
        )
    validate.session(value)
    assert isinstance(value, Session)  # validate.session refuses anything else
    return value


def illegal(session: Session, operation: str, hint: str) -> SessionStateError:
    """The programmer error for ``operation`` in the session's current status."""
    status = SessionStatus(session.status).value
    message = f"{operation} is not allowed on session {session.id!r} with status {status!r}: {hint}"
    return SessionStateError(
        None,
        message,
        metadata={"session_id": session.id, "operation": operation, "status": status},
    )
