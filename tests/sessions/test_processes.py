"""Sessions across processes, on every store: resume in a second process, no lost update between
two writers, and a writer killed in the middle of a save. The second process is
``tests/sessions/worker.py``, driven line by line over its stdin / stdout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.sessions.support import (
    StoreSpec,
    ask_user_handler,
    calls,
    contents,
    make_engine,
    make_tool,
    says,
)

import allm
from allm import sessions, stores

ROOT = Path(__file__).resolve().parents[2]
HI = allm.Thread((allm.user("Book me a flight"),))
TIMEOUT = 30


class Worker:
    """One ``tests.sessions.worker`` process."""

    def __init__(self, command: str, spec: StoreSpec, session_id: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sessions.worker", command, spec.to_json(), session_id],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"},
        )
        # A worker that hangs is killed, so a read gets end-of-file instead of blocking forever.
        self.watchdog = threading.Timer(TIMEOUT, self.process.kill)
        self.watchdog.start()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            self.process.wait(TIMEOUT)
            assert self.process.stderr is not None
            raise AssertionError(f"worker said nothing; stderr:\n{self.process.stderr.read()}")
        return line

    def finish(self) -> int:
        code = self.process.wait(TIMEOUT)
        self.watchdog.cancel()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.finish()


def run_worker(command: str, spec: StoreSpec, session_id: str) -> str:
    worker = Worker(command, spec, session_id)
    line = worker.read()
    assert worker.finish() == 0
    return line


def _ask_tools() -> list[allm.Tool]:
    return [make_tool("book", ask_user_handler)]


# -- resume in another process ---------------------------------------------------------------------


def test_an_ask_user_pause_resumes_in_another_process(store, store_spec) -> None:
    # the whole run in memory, one engine
    engine = make_engine(
        calls(("c1", "book", {"flight": "AF1"})), says("booked"), tools=_ask_tools()
    )
    paused, _ = sessions.start(engine, allm.Session(id="trip", thread=HI))
    expected, _ = sessions.reply(engine, paused, "yes")
    assert expected.status == "completed"

    # the first turn here, saved; the answer in a second process; read back here
    first = make_engine(calls(("c1", "book", {"flight": "AF1"})), tools=_ask_tools())
    paused, _ = sessions.start(first, allm.Session(id="trip", thread=HI))
    assert paused.status == "awaiting_user"
    store.save(paused)
    assert run_worker("reply-ask", store_spec, "trip") == "ok"
    resumed = store.load("trip")
    assert resumed.thread == expected.thread
    assert (resumed.status, resumed.pending_question) == ("completed", None)
    assert stores.version_of(resumed) == 2


def test_pending_manual_tool_calls_resume_in_another_process(store, store_spec) -> None:
    turn = calls(("c1", "a", {"x": 1}), ("c2", "b", {"y": 2}))
    tools = [make_tool("a"), make_tool("b")]
    engine = make_engine(turn, says("done"), tools=tools)
    paused, _ = sessions.start(engine, allm.Session(id="m", thread=HI), mode="manual")
    answers = [(c.id, {"result": c.name}) for c in paused.pending_tool_calls]
    expected, _ = sessions.resume(engine, sessions.submit_tool_results(paused, answers))

    paused, _ = sessions.start(
        make_engine(turn, tools=tools), allm.Session(id="m", thread=HI), mode="manual"
    )
    assert paused.status == "awaiting_tools" and len(paused.pending_tool_calls) == 2
    store.save(paused)
    assert run_worker("resume-manual", store_spec, "m") == "ok"
    resumed = store.load("m")
    assert resumed.thread == expected.thread
    assert contents(resumed)[-3:] == [
        ("tool", '{"result":"a"}'),
        ("tool", '{"result":"b"}'),
        ("assistant", "done"),
    ]
    assert resumed.status == "completed" and resumed.pending_tool_calls == ()


# -- no lost update --------------------------------------------------------------------------------


def test_of_two_writers_of_one_version_one_wins_and_one_conflicts(store, store_spec) -> None:
    store.save(allm.Session(id="shared"))
    first, second = (Worker("race", store_spec, "shared") for _ in range(2))
    try:
        assert first.read() == "loaded 1"
        assert second.read() == "loaded 1"
        first.send("go")
        assert first.read() == "saved 2"
        second.send("go")
        assert second.read() == "conflict 2"
    finally:
        assert first.finish() == 0
        assert second.finish() == 0
    stored = store.load("shared")
    assert stores.version_of(stored) == 2
    assert len(stored.thread) == 1  # the loser wrote nothing


def test_with_update_both_writers_changes_are_kept(store, store_spec) -> None:
    store.save(allm.Session(id="shared"))
    workers = [Worker("race-update", store_spec, "shared") for _ in range(2)]
    try:
        for index, worker in enumerate(workers):
            worker.send(f"change {index}")
        assert [w.read() for w in workers] == ["loaded 1", "loaded 1"]
        for worker in workers:  # both save at once, from the same version
            worker.send("go")
        results = sorted(w.read() for w in workers)
    finally:
        codes = [w.finish() for w in workers]
    assert codes == [0, 0]
    assert results == ["saved 2 1", "saved 3 2"]  # the loser loaded again and applied its change
    stored = store.load("shared")
    assert sorted(m.content for m in stored.thread.messages) == ["change 0", "change 1"]
    assert stores.version_of(stored) == 3


# -- a writer killed in the middle of a save ------------------------------------------------------------


def test_a_writer_killed_mid_save_leaves_the_previous_version(store, store_spec) -> None:
    before = store.save(sessions.append_user(allm.Session(id="k"), "committed"))
    worker = Worker("die-mid-save", store_spec, "k")
    try:
        assert worker.read() == "mid"
        # while the writer hangs inside its save, readers still see the previous version
        assert store.load("k") == before
    finally:
        worker.kill()
    after_kill = store_spec.open()
    try:
        assert after_kill.load("k") == before
        # and the store is not wedged: the next writer goes through
        saved = after_kill.save(sessions.append_user(before, "next"))
        assert stores.version_of(saved) == 2
        assert contents(after_kill.load("k")) == [("user", "committed"), ("user", "next")]
    finally:
        after_kill.close()
