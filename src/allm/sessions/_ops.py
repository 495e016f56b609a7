"""The session operations. Each is written once as a *preparation* (status checks, the message to
append, the options for the chat layer) and then opened on ``allm.stream`` / ``allm.stream_step``
or their async twins; the non-streaming form is the fold of the streaming one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..data.constructors import tool_result, user
from ..data.messages import ContentPart, Message, Role
from ..data.results import ChatResult, Session, SessionStatus, StepResult, Thread
from ..data.tools import ToolCall
from ..errors import SessionError, ValidationError
from ..execution import chat as _chat
from ._apply import check_session, illegal
from ._reducer import ReducerMode
from ._streams import AsyncSessionStream, SessionStream

if TYPE_CHECKING:
    from ..execution.options import ChatOptions, Unpack

__all__ = [
    "append",
    "append_tool_result",
    "append_user",
    "areply",
    "aresume",
    "astart",
    "astep",
    "astream_reply",
    "astream_resume",
    "astream_start",
    "astream_step",
    "messages",
    "new",
    "pending_tool_calls",
    "reply",
    "resume",
    "start",
    "step",
    "stream_reply",
    "stream_resume",
    "stream_start",
    "stream_step",
    "submit_tool_result",
    "submit_tool_results",
]

_READY = (SessionStatus.IDLE, SessionStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a run needs: the session it starts from, the chat-layer options, chat or step."""

    session: Session
    opts: dict[str, Any]
    mode: ReducerMode


def _run_opts(session: Session, opts: Mapping[str, Any]) -> dict[str, Any]:
    """The session's context and id go to tool handlers unless the call names its own; an empty
    session context leaves the engine's context in force."""
    merged = dict(opts)
    if "context" not in merged and session.context:
        merged["context"] = session.context
    if "session_id" not in merged and session.id is not None:
        merged["session_id"] = session.id
    return merged


def _prepare_start(value: Any, opts: Mapping[str, Any]) -> _Prepared:
    if isinstance(value, Session):
        session = check_session(value, "start")
        if session.status not in _READY:
            raise illegal(session, "start", "answer it with reply, resume or submit_tool_result")
    elif isinstance(value, Thread):
        session = Session(thread=value)
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str | bytes)
        and all(isinstance(item, Message) for item in value)
    ):
        session = Session(thread=Thread(tuple(value)))
    else:
        raise ValidationError(
            "invalid_session_input",
            f"start takes a Session, a Thread or a list of messages, got {type(value).__name__}",
            errors=[(("input",), "invalid_type")],
        )
    return _Prepared(session, _run_opts(session, opts), "chat")


def _prepare_resume(
    value: Any, message: Message | None, opts: Mapping[str, Any], operation: str
) -> _Prepared:
    session = check_session(value, operation)
    if message is not None and not isinstance(message, Message):
        raise ValidationError(
            "invalid_message",
            f"{operation} takes a Message or None, got {type(message).__name__}",
            errors=[(("message",), "not_a_message")],
        )
    status = session.status
    if status == SessionStatus.AWAITING_USER:
        if message is None or message.role != Role.USER:
            raise illegal(session, operation, "answer the question with reply (a user message)")
        session = replace(
            session, status=SessionStatus.IDLE, pending_question=None, pending_tool_call_id=None
        )
    elif status == SessionStatus.AWAITING_TOOLS:
        # A valid awaiting_tools session has calls pending (submitting the last one makes it idle).
        raise illegal(
            session, operation, "submit a result for every pending tool call, then resume"
        )
    if message is not None:
        session = replace(session, thread=session.thread.add_message(message))
    return _Prepared(session, _run_opts(session, opts), "chat")


def _prepare_reply(
    value: Any, content: str | Sequence[ContentPart], opts: Mapping[str, Any]
) -> _Prepared:
    return _prepare_resume(value, user(content), opts, "reply")


def _prepare_step(value: Any, opts: Mapping[str, Any]) -> _Prepared:
    session = check_session(value, "step")
    if session.status not in _READY:
        raise illegal(session, "step", "answer it with reply, resume or submit_tool_result")
    return _Prepared(session, _run_opts(session, opts), "step")


def _open(engine: Any, prepared: _Prepared) -> SessionStream[Any]:
    opener = _chat.stream if prepared.mode == "chat" else _chat.stream_step
    events = opener(engine, prepared.session.thread, **prepared.opts)
    return SessionStream(events, prepared.session, prepared.mode)


async def _aopen(engine: Any, prepared: _Prepared) -> AsyncSessionStream[Any]:
    opener = _chat.astream if prepared.mode == "chat" else _chat.astream_step
    events = await opener(engine, prepared.session.thread, **prepared.opts)
    return AsyncSessionStream(events, prepared.session, prepared.mode)


# -- streaming operations -----------------------------------------------------------------------


def stream_start(engine: Any, input: Any, **opts: Unpack[ChatOptions]) -> SessionStream[ChatResult]:
    """Start a chat from a ``Session`` (keeps its id, context and metadata), a ``Thread`` or a
    list of messages. Status checks and the chat's pre-flight raise here, before any I/O."""
    return _open(engine, _prepare_start(input, opts))


def stream_reply(
    engine: Any, session: Session, text: str | Sequence[ContentPart], **opts: Unpack[ChatOptions]
) -> SessionStream[ChatResult]:
    """Append the user's message (answering a pending question, if any) and run the chat."""
    return _open(engine, _prepare_reply(session, text, opts))


def stream_resume(
    engine: Any, session: Session, message: Message | None = None, **opts: Unpack[ChatOptions]
) -> SessionStream[ChatResult]:
    """Append ``message`` (if any) and run the chat: after every pending tool call has its
    result, ``resume(engine, session)`` drives the next turn."""
    return _open(engine, _prepare_resume(session, message, opts, "resume"))


def stream_step(
    engine: Any, session: Session, **opts: Unpack[ChatOptions]
) -> SessionStream[StepResult]:
    """One step (a model call and the tools it asked for) on the session's thread."""
    return _open(engine, _prepare_step(session, opts))


async def astream_start(
    engine: Any, input: Any, **opts: Unpack[ChatOptions]
) -> AsyncSessionStream[ChatResult]:
    """The async twin of ``stream_start``."""
    return await _aopen(engine, _prepare_start(input, opts))


async def astream_reply(
    engine: Any, session: Session, text: str | Sequence[ContentPart], **opts: Unpack[ChatOptions]
) -> AsyncSessionStream[ChatResult]:
    """The async twin of ``stream_reply``."""
    return await _aopen(engine, _prepare_reply(session, text, opts))


async def astream_resume(
    engine: Any, session: Session, message: Message | None = None, **opts: Unpack[ChatOptions]
) -> AsyncSessionStream[ChatResult]:
    """The async twin of ``stream_resume``."""
    return await _aopen(engine, _prepare_resume(session, message, opts, "resume"))


async def astream_step(
    engine: Any, session: Session, **opts: Unpack[ChatOptions]
) -> AsyncSessionStream[StepResult]:
    """The async twin of ``stream_step``."""
    return await _aopen(engine, _prepare_step(session, opts))


# -- whole results: the fold of the streams ----------------------------------------------------


def start(engine: Any, input: Any, **opts: Unpack[ChatOptions]) -> tuple[Session, ChatResult]:
    """Run a chat from ``input``; returns the new session and the ``ChatResult``.

    Args:
        engine: The ``allm.Engine`` to run with.
        input: A ``Session`` (its id, context and metadata are kept), a ``Thread`` or messages.
        **opts: The options of ``allm.chat``: ``mode``, ``max_turns``, ``halt_when``,
            ``on_tool_error``, ``tool_timeout``, ``max_concurrency``, ``structured_finalize``,
            ``context``, and the call options of ``allm.generate`` (``model``, ``temperature``,
            ``max_tokens``, ``api_key``, ...). They are per call, never stored in the session.
    """
    return stream_start(engine, input, **opts).collect()


def reply(
    engine: Any, session: Session, text: str | Sequence[ContentPart], **opts: Unpack[ChatOptions]
) -> tuple[Session, ChatResult]:
    """Append the user's text and run the chat. Legal on idle, completed and awaiting_user.

    Args:
        engine: The ``allm.Engine`` to run with.
        session: The session to go on with (an ``awaiting_user`` one gets its answer).
        text: The user's message: text or content parts.
        **opts: The options of ``allm.chat`` (see ``start``).
    """
    return stream_reply(engine, session, text, **opts).collect()


def resume(
    engine: Any, session: Session, message: Message | None = None, **opts: Unpack[ChatOptions]
) -> tuple[Session, ChatResult]:
    """Append ``message`` (if any) and run the chat (the original's ``continue``).

    Args:
        engine: The ``allm.Engine`` to run with.
        session: The session; every pending tool call must have its result.
        message: A message to append first, or None.
        **opts: The options of ``allm.chat`` (see ``start``).
    """
    return stream_resume(engine, session, message, **opts).collect()


def step(engine: Any, session: Session, **opts: Unpack[ChatOptions]) -> tuple[Session, StepResult]:
    """One step on the session's thread; returns the new session and the ``StepResult``.

    Args:
        engine: The ``allm.Engine`` to run with.
        session: An idle or completed session.
        **opts: The options of ``allm.step``: ``mode``, ``on_tool_error``, ``tool_timeout``,
            ``max_concurrency``, ``context`` and the call options of ``allm.generate``.
    """
    return stream_step(engine, session, **opts).collect()


async def astart(
    engine: Any, input: Any, **opts: Unpack[ChatOptions]
) -> tuple[Session, ChatResult]:
    """The async twin of ``start``."""
    return await (await astream_start(engine, input, **opts)).collect()


async def areply(
    engine: Any, session: Session, text: str | Sequence[ContentPart], **opts: Unpack[ChatOptions]
) -> tuple[Session, ChatResult]:
    """The async twin of ``reply``."""
    return await (await astream_reply(engine, session, text, **opts)).collect()


async def aresume(
    engine: Any, session: Session, message: Message | None = None, **opts: Unpack[ChatOptions]
) -> tuple[Session, ChatResult]:
    """The async twin of ``resume``."""
    return await (await astream_resume(engine, session, message, **opts)).collect()


async def astep(
    engine: Any, session: Session, **opts: Unpack[ChatOptions]
) -> tuple[Session, StepResult]:
    """The async twin of ``step``."""
    return await (await astream_step(engine, session, **opts)).collect()


# -- manual tool results: no model call -----------------------------------------------------------


def _content(content: Any) -> Any:
    try:
        return tool_result("_", content).content
    except (TypeError, ValueError):
        return repr(content)  # not JSON: a readable rendering still tells the model something


def _submit(session: Session, tool_call_id: str, content: Any) -> Session:
    pending = session.pending_tool_calls
    ids = [call.id for call in pending]
    if tool_call_id not in ids:
        raise SessionError(
            "unknown_tool_call_id",
            f"session {session.id!r} has no pending tool call {tool_call_id!r}",
            metadata={
                "session_id": session.id,
                "tool_call_id": tool_call_id,
                "pending_tool_call_ids": ids,
            },
        )
    index = ids.index(tool_call_id)
    remaining = pending[:index] + pending[index + 1 :]
    message = Message(Role.TOOL, _content(content), tool_call_id=tool_call_id)
    return replace(
        session,
        thread=session.thread.add_message(message),
        pending_tool_calls=remaining,
        status=SessionStatus.AWAITING_TOOLS if remaining else SessionStatus.IDLE,
    )


def submit_tool_result(session: Session, tool_call_id: str, content: Any) -> Session:
    """Answer one pending tool call (no model call): a tool message is appended, the call leaves
    ``pending_tool_calls`` and the session becomes ``idle`` when none remain.

    Strings and lists of content parts are kept as they are; other values become JSON text (a
    value JSON cannot hold, its ``repr``). An id that is not pending raises
    ``SessionError("unknown_tool_call_id")``.
    """
    checked = check_session(session, "submit_tool_result")
    if checked.status != SessionStatus.AWAITING_TOOLS:
        raise illegal(checked, "submit_tool_result", "no tool call is pending")
    return _submit(checked, tool_call_id, content)


def submit_tool_results(session: Session, results: Iterable[tuple[str, Any]]) -> Session:
    """``submit_tool_result`` for each ``(tool_call_id, content)``, all or nothing: the first
    failure raises and no result is applied. An empty list returns the session unchanged."""
    checked = check_session(session, "submit_tool_result")
    pairs = list(results)
    if not pairs:
        return checked
    if checked.status != SessionStatus.AWAITING_TOOLS:
        raise illegal(checked, "submit_tool_result", "no tool call is pending")
    for tool_call_id, content in pairs:
        checked = _submit(checked, tool_call_id, content)
    return checked


# -- helpers ---------------------------------------------------------------------------------------


def new(**fields: Any) -> Session:
    """A session: ``Session(**fields)``."""
    return Session(**fields)


def append(session: Session, message: Message) -> Session:
    """The session with ``message`` appended to its thread (no status change, no model call)."""
    return replace(session, thread=session.thread.add_message(message))


def append_user(session: Session, content: str | Sequence[ContentPart]) -> Session:
    """The session with a user message appended (no status change, no model call)."""
    return append(session, user(content))


def append_tool_result(session: Session, tool_call_id: str, content: Any) -> Session:
    """The session with a tool message appended, leaving ``pending_tool_calls`` alone; to answer a
    pending call use ``submit_tool_result``."""
    return append(session, Message(Role.TOOL, _content(content), tool_call_id=tool_call_id))


def messages(session: Session) -> tuple[Message, ...]:
    """The session's messages."""
    return session.thread.messages


def pending_tool_calls(session: Session) -> tuple[ToolCall, ...]:
    """The tool calls the session waits for."""
    return session.pending_tool_calls
