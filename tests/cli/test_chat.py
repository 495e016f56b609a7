"""``allm chat`` over stdin: turns, exit words, resuming with --continue and --session."""

from __future__ import annotations

import json

from .conftest import TEST_KEY, Home, one_line_error, openai_at, refuse


def session_id(err: str) -> str:
    (line,) = [line for line in err.splitlines() if "saved (allm chat --session" in line]
    return line.split()[2]


def test_chat_reads_lines_until_exit(home: Home) -> None:
    result = home.run("chat", "-m", "fake", stdin="hello\n\nsecond\nexit\nnever read\n")
    assert result.code == 0, result.err
    assert result.out == "Fake reply 1: hello\nFake reply 2: second\n"
    rows = home.log_rows()
    assert [row["prompt"] for row in rows] == ["hello", "second"]
    assert rows[0]["conversation_id"] == rows[1]["conversation_id"] == session_id(result.err)


def test_chat_ends_at_end_of_input_and_on_quit(home: Home) -> None:
    assert home.run("chat", "-m", "fake", stdin="one\n").out == "Fake reply 1: one\n"
    assert home.run("chat", "-m", "fake", stdin="quit\n").out == ""


def test_chat_on_the_fake_says_so(home: Home) -> None:
    result = home.run("chat", stdin="hi\n")
    assert "answering with the offline Fake provider" in result.err
    assert result.out == "Fake reply 1: hi\n"


def test_continue_resumes_the_last_conversation_with_its_history(home: Home) -> None:
    first = home.run("chat", "-s", "Be kind.", stdin="one\ntwo\n")
    resumed = home.run("chat", "--continue", "-u", stdin="three\n")
    assert resumed.code == 0, resumed.err
    assert resumed.out == "Fake reply 3: three\n"  # the third user message of the thread
    assert "Token usage: 1 input, 4 output, 5 total" in resumed.err
    assert "answering with the offline Fake" not in resumed.err  # the session knows its model
    assert session_id(resumed.err) == session_id(first.err)
    again = home.run("chat", "-c", "-s", "ignored", stdin="four\n")
    assert again.out == "Fake reply 4: four\n"
    assert "-s ignored" in again.err


def test_session_resumes_a_named_conversation(home: Home) -> None:
    first = home.run("chat", "-m", "fake", stdin="alpha\n")
    home.run("chat", "-m", "fake", stdin="other conversation\n")
    resumed = home.run("chat", "--session", session_id(first.err), stdin="beta\n")
    assert resumed.out == "Fake reply 2: beta\n"
    rows = home.log_rows()
    assert rows[0]["conversation_id"] == rows[2]["conversation_id"] != rows[1]["conversation_id"]


def test_resuming_what_does_not_exist_is_a_user_error(home: Home) -> None:
    nothing = home.run("chat", "--continue", stdin="x\n")
    assert nothing.code == 2
    assert "no conversation to continue" in one_line_error(nothing)
    assert "none saved yet" in one_line_error(home.run("chat", "--session", "abc", stdin=""))
    home.run("chat", "-m", "fake", stdin="make the store\n")
    missing = home.run("chat", "--session", "abc", stdin="")
    assert missing.code == 2
    assert "no conversation 'abc'" in one_line_error(missing)


def test_chat_no_stream_and_options(home: Home) -> None:
    result = home.run("chat", "-m", "fake", "--no-stream", "-o", "temperature=0", stdin="calm\n")
    assert result.out == "Fake reply 1: calm\n"
    assert json.loads(home.log_rows()[0]["options"]) == {"temperature": 0.0}
    refused = home.run("chat", "-m", "fake", "-o", "temp=0", stdin="calm\n")
    assert refused.code == 2 and "did you mean 'temperature'" in one_line_error(refused)


def test_a_failed_turn_is_reported_and_the_conversation_goes_on(home: Home) -> None:
    from allm.testing.loopback import LoopbackServer

    from .test_prompt import openai_sse

    with LoopbackServer() as server:
        refuse(server, 400)
        server.add(
            "POST",
            "/v1/chat/completions",
            body=openai_sse("Fine"),
            headers={"content-type": "text/event-stream"},
        )
        result = home.run(
            "chat",
            *openai_at(server),
            stdin="first\nsecond\n",
            env=TEST_KEY,
        )
        second_body = server.requests[1].json()
    assert result.code == 1
    assert result.out == "\nFine\n" or result.out == "Fine\n"
    assert "allm: error: " in result.err and "Traceback" not in result.err
    # the failed turn is not part of the conversation: the second call sends only "second"
    assert [m["content"] for m in second_body["messages"]] == ["second"]
