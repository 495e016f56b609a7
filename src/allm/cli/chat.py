"""``allm chat``: a conversation read line by line from stdin, kept in a session store.

Each turn is ``allm.sessions.stream_reply`` on a session saved in ``sessions.db`` (the library's
``SQLiteStore``) after every answer, so ``--continue`` and ``--session ID`` resume it, in this
process or a later one. The session's ``metadata["model"]`` remembers the model it was held with.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

import allm

from . import calls, files
from .calls import end_answer, model_options, record_call, setup_call, user_errors

__all__ = ["chat_command"]

_ENDINGS = frozenset({"exit", "quit"})


def _load(session_id: str | None, resume_last: bool) -> allm.Session | None:
    if session_id is None and resume_last:
        session_id = files.read_settings().get("last_session")
        if not isinstance(session_id, str):
            raise calls.UserError("no conversation to continue yet: start one with `allm chat`")
    if session_id is None:
        return None
    if not (files.user_dir() / "sessions.db").exists():
        raise calls.UserError(f"no conversation {session_id!r} (none saved yet)")
    with allm.stores.SQLiteStore(str(files.sessions_db())) as store:
        try:
            return store.load(session_id)
        except allm.SessionNotFoundError:
            raise calls.UserError(f"no conversation {session_id!r}") from None


def _user_turns(session: allm.Session) -> int:
    return sum(1 for message in session.thread.messages if message.role == "user")


@click.command("chat")
@model_options
@click.option("-c", "--continue", "resume_last", is_flag=True, help="Resume the last conversation.")
@click.option("--session", "session_id", metavar="ID", help="Resume the conversation with this id.")
def chat_command(
    model: str | None,
    system: str | None,
    options: tuple[str, ...],
    no_stream: bool,
    usage: bool,
    resume_last: bool,
    session_id: str | None,
) -> None:
    """Hold a conversation: one line is one message; end with exit, quit or end of input."""
    with user_errors():
        session = _load(session_id, resume_last)
        if model is None and session is not None:
            model = session.metadata.get("model")
        target, opts = setup_call(model, options)
        if session is None:
            start = (allm.system(system),) if system else ()
            session = allm.Session(
                thread=allm.Thread(start), metadata={"model": target.name, "system": system}
            )
        elif system:
            click.echo("allm: -s ignored: a resumed conversation keeps its system prompt", err=True)
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (line editing and history for input())

        shown = f" (conversation {session.id})" if session.id else ""
        click.echo(f"Chatting with {target.name}{shown}. Type exit or quit to end.")
    failed = False
    with user_errors():
        path = files.sessions_db()
    with allm.stores.SQLiteStore(str(path)) as store:
        while True:
            try:
                line = input("> " if interactive else "")
            except EOFError:
                if interactive:
                    click.echo()
                break
            text = line.strip()
            if text in _ENDINGS:
                break
            if not text:
                continue
            outcome = _turn(store, session, target, text, opts, system, no_stream=no_stream)
            if outcome is None:
                failed = True
                continue
            session, used = outcome
            if usage:
                click.echo(calls.usage_line(used), err=True)
    if session.id is not None:
        click.echo(
            f"allm: conversation {session.id} saved (allm chat --session {session.id})", err=True
        )
    if failed:
        raise calls.CallFailed("a turn of the conversation failed (see above)")


def _turn(
    store: Any,
    session: allm.Session,
    target: calls.Target,
    text: str,
    opts: dict[str, Any],
    system: str | None,
    *,
    no_stream: bool,
) -> tuple[allm.Session, allm.Usage] | None:
    """One exchange: the new session (saved) and the answer's usage, or ``None`` when the turn
    failed (the conversation goes on from before it)."""
    engine = calls.engine_for(target, text, turn=_user_turns(session) + 1)
    started = time.monotonic()
    with user_errors():
        keywords = dict(opts) if no_stream else {"on_event": calls.echo_delta, **opts}
        stream = allm.sessions.stream_reply(engine, session, text, **keywords)
    updated, result = stream.collect()
    response = result.final_response
    if response is None:  # pragma: no cover - the chat loop always answers a user message
        raise calls.CallFailed(f"no answer (halted: {result.halted_reason})")
    end_answer(response.text or "", printed=not no_stream)
    error = response.metadata.get("error")
    saved: allm.Session = session
    if error is None:
        with user_errors():  # a conflict (another chat saved it) or a store failure: one line
            saved = store.save(updated)
            files.write_settings({"last_session": saved.id})
    record_call(
        response,
        target,
        prompt=text,
        system=system,
        options=opts,
        started=started,
        conversation_id=saved.id,
    )
    if error is not None:
        click.echo(f"allm: error: {calls.error_text(error)}", err=True)
        return None
    return saved, response.usage
