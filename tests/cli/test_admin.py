"""``allm models``, ``allm keys`` and ``allm logs``."""

from __future__ import annotations

import json
import sqlite3
import stat

from .conftest import Home, one_line_error


def test_models_lists_the_catalog_with_limits_and_prices(home: Home) -> None:
    result = home.run("models")
    assert result.code == 0
    line = next(line for line in result.out.splitlines() if line.startswith("openai:gpt-4o-mini "))
    assert "context 128,000" in line and "output 16,384" in line
    assert "$0.15 in / $0.6 out per 1M tokens" in line and "tools" in line
    providers = {line.split(":")[0] for line in result.out.splitlines()}
    assert {"openai", "anthropic", "gemini"} <= providers


def test_models_json_and_provider_filter(home: Home) -> None:
    rows = home.run("models", "--provider", "anthropic", "--json").json()
    assert rows and {row["provider"] for row in rows} == {"anthropic"}
    haiku = next(row for row in rows if row["id"] == "claude-haiku-4-5")
    assert haiku["model"] == "anthropic:claude-haiku-4-5"
    assert set(haiku) >= {"capabilities", "limits", "pricing"}
    assert haiku["pricing"]["input"] > 0
    unknown = home.run("models", "--provider", "nobody")
    assert unknown.code == 2 and "no models of 'nobody'" in one_line_error(unknown)


def test_keys_set_list_path_and_the_file_mode(home: Home) -> None:
    path = home.run("keys", "path").out.strip()
    assert path == str(home.data / "keys.json")
    assert home.run("keys", "list").out == ""
    assert home.run("keys", "set", "openai", stdin="sk-proj-abcdefghijklmnop\n").code == 0
    assert home.run("keys", "set", "anthropic", stdin="short").code == 0
    mode = stat.S_IMODE((home.data / "keys.json").stat().st_mode)
    assert mode == 0o600
    listed = home.run("keys", "list")
    assert listed.out == "anthropic\t*****\nopenai\tsk-...mnop\n"
    assert "abcdefghijkl" not in listed.out
    assert json.loads((home.data / "keys.json").read_text()) == {
        "anthropic": "short",
        "openai": "sk-proj-abcdefghijklmnop",
    }
    home.run("keys", "set", "openai", stdin="sk-replaced-0123456789")
    assert stat.S_IMODE((home.data / "keys.json").stat().st_mode) == 0o600
    assert "sk-...6789" in home.run("keys", "list").out


def test_keys_set_refuses_bad_input(home: Home) -> None:
    assert "no key given" in one_line_error(home.run("keys", "set", "openai", stdin="\n"))
    assert "cannot contain spaces" in one_line_error(home.run("keys", "set", "openai", stdin="a b"))
    unknown = home.run("keys", "set", "nobody", stdin="sk-x")
    assert unknown.code == 2 and "unknown provider 'nobody'" in one_line_error(unknown)
    assert not (home.data / "keys.json").exists()


def test_a_broken_key_file_is_one_line(home: Home) -> None:
    home.data.mkdir(parents=True)
    (home.data / "keys.json").write_text("{not json")
    result = home.run("keys", "list")
    assert result.code == 2 and "is not valid JSON" in one_line_error(result)
    (home.data / "keys.json").write_text('{"openai": 3}')
    assert "are not strings" in one_line_error(home.run("-m", "fake", "hi"))
    (home.data / "keys.json").write_text("[]")
    assert "must hold a JSON object" in one_line_error(home.run("keys", "list"))


def test_logs_hold_every_call_and_show_the_latest(home: Home) -> None:
    assert home.run("logs").err == "allm: nothing logged yet\n"
    for word in ("first", "second", "third", "fourth"):
        home.run("-m", "fake", word)
    rows = home.log_rows()
    assert [row["prompt"] for row in rows] == ["first", "second", "third", "fourth"]
    assert rows[0]["response"] == "Fake reply 1: first"
    assert rows[0]["model"] == "fake:echo" and rows[0]["finish_reason"] == "stop"
    assert rows[0]["input_tokens"] == 1 and rows[0]["output_tokens"] == 4
    assert rows[0]["duration_ms"] >= 0 and rows[0]["datetime_utc"].endswith("+00:00")
    shown = home.run("logs")  # the latest three by default, oldest first
    assert shown.out.index("second") < shown.out.index("third") < shown.out.index("fourth")
    assert "first" not in shown.out
    latest = home.run("logs", "-n", "1", "--json").json()
    assert [entry["prompt"] for entry in latest] == ["fourth"]
    assert latest[0]["response"] == "Fake reply 1: fourth"
    assert home.run("logs", "-n", "0").code == 2


def test_logs_off_keeps_what_was_logged_and_on_resumes(home: Home) -> None:
    home.run("-m", "fake", "kept")
    assert home.run("logs", "off").code == 0
    home.run("-m", "fake", "not logged")
    home.run("chat", "-m", "fake", stdin="not logged either\n")
    assert "logging is off; 1 calls logged" in home.run("logs", "status").out
    assert [row["prompt"] for row in home.log_rows()] == ["kept"]
    home.run("logs", "on")
    home.run("-m", "fake", "logged again")
    assert [row["prompt"] for row in home.log_rows()] == ["kept", "logged again"]
    assert home.run("logs", "path").out.strip() == str(home.data / "logs.db")


def test_logs_text_shows_system_attachments_and_errors(home: Home) -> None:
    (home.root / "a.txt").write_text("x")
    home.run("-m", "fake", "-s", "Sys.", "-a", "a.txt", "look")
    out = home.run("logs", "-n", "1").out
    assert (
        "## System\n\nSys." in out and "## Attachments" in out and str(home.root / "a.txt") in out
    )
    home.run(
        "-m",
        "openai:gpt-4o-mini",
        "-o",
        "base_url=http://127.0.0.1:9/v1",
        "-o",
        "timeout=2",
        "hi",
        env={"OPENAI_API_KEY": "sk-test-0123456789"},
    )
    out = home.run("logs", "-n", "1").out
    assert "## Error" in out


def test_the_user_dir_can_be_moved(home: Home) -> None:
    moved = home.root / "elsewhere"
    home.run("-m", "fake", "hi", env={"ALLM_USER_DIR": str(moved)})
    assert (moved / "logs.db").exists()
    assert not (home.data / "logs.db").exists()
    connection = sqlite3.connect(moved / "logs.db")
    assert connection.execute("SELECT prompt FROM responses").fetchall() == [("hi",)]
    connection.close()


def test_logs_text_names_the_conversation_and_status_starts_at_zero(home: Home) -> None:
    assert "logging is on; 0 calls logged" in home.run("logs", "status").out
    home.run("chat", "-m", "fake", stdin="hi\n")
    assert "  conversation " in home.run("logs").out


def test_user_files_that_cannot_be_read_or_written_are_one_line(home: Home) -> None:
    dangling = home.root / "gone"
    dangling.symlink_to(home.root / "nowhere")  # the user directory: a link to nothing
    env = {"ALLM_USER_DIR": str(dangling)}
    written = home.run("keys", "set", "openai", stdin="sk-0123456789abcdef", env=env)
    assert written.code == 2 and "cannot write" in one_line_error(written)
    chat = home.run("chat", "-m", "fake", stdin="hi\n", env=env)
    assert chat.code == 2 and "cannot create" in one_line_error(chat)
    blocker = home.root / "not-a-dir"
    blocker.write_text("a file where the user directory should be")
    blocked = home.run("keys", "list", env={"ALLM_USER_DIR": str(blocker / "allm")})
    assert blocked.code == 2 and "cannot read" in one_line_error(blocked)
    home.data.mkdir(parents=True)
    (home.data / "keys.json").mkdir()
    unreadable = home.run("keys", "list")
    assert unreadable.code == 2 and "cannot read" in one_line_error(unreadable)


def test_a_group_without_its_command_shows_its_help(home: Home) -> None:
    result = home.run("keys")
    assert result.code == 0
    assert "Commands:" in result.out and "set" in result.out and result.err == ""


def test_allm_alone_on_a_terminal_shows_the_help(home: Home) -> None:
    import os
    import pty

    from .conftest import SCRIPT

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child process
        os.execve(str(SCRIPT), [str(SCRIPT)], home.env)
    screen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = screen.decode()
    assert text.startswith("Usage: allm") and "allm: error" not in text
