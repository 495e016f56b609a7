"""A second process for the cross-process session tests. Run as

    python -m tests.sessions.worker <command> <store spec JSON> <session id>

and talk to it over stdin / stdout, one line at a time. Commands:

* ``reply-ask``: load, answer the pending question with "yes" (the model's next turn says
  "booked"), save.
* ``resume-manual``: load, submit a result for every pending call, resume (the model's next turn
  says "done"), save.
* ``race``: load, print ``loaded <version>``, wait for ``go``, append a message, save; print
  ``saved <version>`` or ``conflict <stored version>``.
* ``race-update``: the same change through ``stores.update``: the first attempt prints ``loaded``
  and waits for ``go``; prints ``saved <version> <attempts>``.
* ``die-mid-save``: append a message and save, stopping inside the save after the write and before
  the commit (Redis: after half of the save command was sent); prints ``mid`` and waits to be
  killed.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Any
from urllib.parse import urlparse

from tests.sessions.support import StoreSpec, make_engine, says

from allm import ConflictError, sessions, stores


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_for(word: str) -> None:
    line = sys.stdin.readline().strip()
    if line != word:
        raise SystemExit(f"expected {word!r}, got {line!r}")


def _resp(parts: list[Any]) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def die_mid_save(spec: StoreSpec, store: Any, session_id: str) -> None:
    changed = sessions.append_user(store.load(session_id), "never committed")
    if spec.kind == "redis":
        from allm.stores import _base, _redis

        record = _base.encode_record(changed)
        keys, args = store.save_command(record, time.time())
        command = _resp(["EVAL", _redis.SAVE_SCRIPT, len(keys), *keys, *args])
        url = urlparse(spec.url)
        conn = socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379))
        conn.sendall(command[: len(command) // 2])
        say("mid")
        time.sleep(60)
        return

    def stop_here() -> None:
        say("mid")
        time.sleep(60)

    store._commit_point = stop_here
    store.save(changed)


def main(argv: list[str]) -> None:
    command, spec_text, session_id = argv
    spec = StoreSpec.from_json(spec_text)
    store = spec.open()
    if command == "reply-ask":
        session, _ = sessions.reply(make_engine(says("booked")), store.load(session_id), "yes")
        store.save(session)
        say("ok")
    elif command == "resume-manual":
        session = store.load(session_id)
        answers = [(call.id, {"result": call.name}) for call in session.pending_tool_calls]
        session = sessions.submit_tool_results(session, answers)
        session, _ = sessions.resume(make_engine(says("done")), session)
        store.save(session)
        say("ok")
    elif command == "race":
        session = store.load(session_id)
        say(f"loaded {stores.version_of(session)}")
        wait_for("go")
        try:
            saved = store.save(sessions.append_user(session, f"from process {os.getpid()}"))
        except ConflictError as exc:
            say(f"conflict {exc.metadata['stored_version']}")
        else:
            say(f"saved {stores.version_of(saved)}")
    elif command == "race-update":
        attempts: list[int] = []
        tag = sys.stdin.readline().strip()

        def change(session: Any) -> Any:
            attempts.append(stores.version_of(session) or 0)
            if len(attempts) == 1:
                say(f"loaded {attempts[0]}")
                wait_for("go")
            return sessions.append_user(session, tag)

        saved = stores.update(store, session_id, change)
        say(f"saved {stores.version_of(saved)} {len(attempts)}")
    elif command == "die-mid-save":
        die_mid_save(spec, store, session_id)
    else:
        raise SystemExit(f"unknown command {command!r}")
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
