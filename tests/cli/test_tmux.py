"""An interactive ``allm chat`` on a real terminal: tmux runs it, send-keys types, capture-pane
reads the screen. Also ``allm keys set`` asking for a key without echoing it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import SCRIPT, Home

TMUX = shutil.which("tmux")


class Terminal:
    """One tmux server of its own (its own socket), one window running ``command``."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.socket = f"allm-test-{uuid.uuid4().hex[:12]}"
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        # When the command ends the pane shows its exit status, and stays for capture-pane.
        shell = f'env -i {exports} {command}; echo "[exited $?]"; sleep 120'
        self._tmux("new-session", "-d", "-x", "110", "-y", "30", "-s", "t", shell)

    def _tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)
        self._tmux("send-keys", "-t", "t", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, predicate: Callable[[str], bool], seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        screen = self.screen()
        while not predicate(screen):
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed what was awaited:\n{screen}")
            time.sleep(0.1)
            screen = self.screen()
        return screen

    def close(self) -> None:
        subprocess.run(
            [TMUX or "tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30
        )


def prompt_shown(screen: str) -> bool:
    """The chat's ``> `` prompt waits on the last line (capture-pane drops trailing blanks)."""
    lines = screen.rstrip("\n").splitlines()
    return bool(lines) and lines[-1] == ">"


@pytest.fixture
def terminal(home: Home) -> Iterator[Callable[[str], Terminal]]:
    if TMUX is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is needed for the terminal tests (.ci/run installs it)")
        pytest.skip("tmux is not installed")
    opened: list[Terminal] = []

    def open_terminal(arguments: str) -> Terminal:
        env = {**home.env, "TERM": "xterm-256color"}
        opened.append(Terminal(f"{shlex.quote(str(SCRIPT))} {arguments}", env))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_an_interactive_chat_on_a_terminal(home: Home, terminal: Callable[[str], Terminal]) -> None:
    term = terminal("chat")
    screen = term.wait_for(lambda s: "Type exit or quit to end." in s and prompt_shown(s))
    assert "Chatting with fake:echo" in screen
    assert "answering with the offline Fake provider" in screen  # stderr shares the terminal
    term.type("hello from tmux")
    term.wait_for(lambda s: "Fake reply 1: hello from tmux" in s)
    term.type("and again")
    term.wait_for(lambda s: "Fake reply 2: and again" in s)
    term.type("exit")
    screen = term.wait_for(lambda s: "[exited " in s)
    assert "[exited 0]" in screen
    assert "saved (allm chat --session" in screen
    assert [row["prompt"] for row in home.log_rows()] == ["hello from tmux", "and again"]

    resumed = terminal("chat --continue")
    resumed.wait_for(lambda s: "(conversation " in s and prompt_shown(s))
    resumed.type("third")
    resumed.wait_for(lambda s: "Fake reply 3: third" in s)
    resumed.type("quit")
    assert "[exited 0]" in resumed.wait_for(lambda s: "[exited " in s)


def test_keys_set_asks_without_echo_on_a_terminal(
    home: Home, terminal: Callable[[str], Terminal]
) -> None:
    term = terminal("keys set openai")
    term.wait_for(lambda s: "openai key:" in s)
    term.type("sk-typed-secret-0123456789")
    screen = term.wait_for(lambda s: "[exited " in s)
    assert "[exited 0]" in screen
    assert "sk-typed-secret" not in screen
    assert Path(home.data / "keys.json").read_text().count("sk-typed-secret-0123456789") == 1


def test_ctrl_d_ends_a_chat_and_ctrl_c_interrupts_it(
    home: Home, terminal: Callable[[str], Terminal]
) -> None:
    ended = terminal("chat -m fake")
    ended.wait_for(prompt_shown)
    ended.type("one")
    # Ctrl-D only once the next prompt is up: readline owns the terminal from then on.
    ended.wait_for(lambda s: "Fake reply 1: one" in s and prompt_shown(s))
    ended._tmux("send-keys", "-t", "t", "C-d")
    assert "[exited 0]" in ended.wait_for(lambda s: "[exited " in s)

    interrupted = terminal("chat -m fake")
    interrupted.wait_for(prompt_shown)
    interrupted._tmux("send-keys", "-t", "t", "C-c")
    screen = interrupted.wait_for(lambda s: "[exited " in s)
    assert "[exited 130]" in screen and "allm: interrupted" in screen
    assert "Traceback" not in screen
