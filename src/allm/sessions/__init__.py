"""Layer D: sessions. A ``Session`` is a conversation that can stop and go on later, on another
worker, tomorrow: a thread, a status and what it waits for (design §17).

Every operation takes a session and returns a new one, plus the ``ChatResult`` / ``StepResult``::

    session, result = sessions.start(engine, [allm.user("Book me a flight")])
    if session.status == "awaiting_user":          # a tool asked the user something
        session, result = sessions.reply(engine, session, "yes")
    if session.status == "awaiting_tools":         # manual tools: the caller runs them
        session = sessions.submit_tool_results(session, [(c.id, run(c)) for c in session.pending_tool_calls])
        session, result = sessions.resume(engine, session)

Status rules (§17.2): ``start`` and ``step`` need an idle or completed session; ``reply`` also
answers ``awaiting_user``; ``resume`` goes on after every pending tool call has its result;
``submit_tool_result`` needs ``awaiting_tools``. Any other pairing raises ``SessionStateError``
(a programmer error). A session in the ``error`` state answers every operation with
``SessionError("session_in_error_state")``.

The session's ``context`` and ``id`` reach tool handlers (``ctx.context``, ``ctx.session_id``)
unless the call passes its own ``context=`` / ``session_id=``. ``mode`` and other chat options are
per call, never stored.

Streaming: ``stream_start`` / ``stream_reply`` / ``stream_resume`` / ``stream_step`` return a
``SessionStream`` (async: ``AsyncSessionStream``) of the chat layer's events; ``collect()`` gives
``(session, result)``. The non-streaming operations are exactly that fold, and
``StreamReducer`` is the same fold for events you hold yourself.
"""

from __future__ import annotations

from ..data.results import Session, SessionStatus
from ._apply import apply_chat_result, apply_step_result
from ._ops import (
    append,
    append_tool_result,
    append_user,
    areply,
    aresume,
    astart,
    astep,
    astream_reply,
    astream_resume,
    astream_start,
    astream_step,
    messages,
    new,
    pending_tool_calls,
    reply,
    resume,
    start,
    step,
    stream_reply,
    stream_resume,
    stream_start,
    stream_step,
    submit_tool_result,
    submit_tool_results,
)
from ._reducer import StreamReducer
from ._streams import AsyncSessionStream, SessionStream

__all__ = [
    "AsyncSessionStream",
    "Session",
    "SessionStatus",
    "SessionStream",
    "StreamReducer",
    "append",
    "append_tool_result",
    "append_user",
    "apply_chat_result",
    "apply_step_result",
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
