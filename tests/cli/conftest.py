"""The installed ``allm`` script, run as a subprocess in a temporary home with its own XDG
directories: what a user's shell runs, nothing imported in-process."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).with_name("allm")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Home:
    """A temporary home: ``run`` calls the script there; ``data`` is ``$XDG_DATA_HOME/allm``."""

    root: Path
    env: dict[str, str]

    @property
    def data(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "allm"

    def run(self, *args: str, stdin: str | None = "", env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.root,
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def log_rows(self) -> list[dict[str, Any]]:
        connection = sqlite3.connect(self.data / "logs.db")
        connection.row_factory = sqlite3.Row
        try:
            return [
                dict(row) for row in connection.execute("SELECT * FROM responses ORDER BY rowid")
            ]
        finally:
            connection.close()


def clean_env(root: Path) -> dict[str, str]:
    """The process environment without keys or allm settings, with HOME and XDG dirs in ``root``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith("_API_KEY") and not name.startswith(("ALLM_", "XDG_"))
    }
    env.update(
        HOME=str(root),
        XDG_DATA_HOME=str(root / ".local" / "share"),
        XDG_CONFIG_HOME=str(root / ".config"),
        XDG_STATE_HOME=str(root / ".local" / "state"),
        XDG_CACHE_HOME=str(root / ".cache"),
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    if not SCRIPT.exists():  # pragma: no cover - the dev install always has it
        pytest.fail(f"the allm script is not installed next to {sys.executable}")
    root = tmp_path / "home"
    root.mkdir()
    yield Home(root, clean_env(root))
    shutil.rmtree(root, ignore_errors=True)


def one_line_error(result: Result) -> str:
    """The script failed with one clear line on stderr and no traceback."""
    assert result.code != 0
    assert "Traceback" not in result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("allm: error: ")
    return lines[0]


TEST_KEY = {"OPENAI_API_KEY": "sk-test-0123456789"}


def openai_at(server: Any) -> list[str]:
    """The arguments that point a call at a loopback server speaking OpenAI."""
    return ["-m", "openai:gpt-4o-mini", "-o", f"base_url={server.url}/v1"]


def refuse(server: Any, status: int) -> None:
    """The server's next Chat Completions answer: an OpenAI error with ``status``."""
    server.add(
        "POST",
        "/v1/chat/completions",
        status=status,
        body=b'{"error": {"message": "refused", "type": "invalid_request_error"}}',
        headers={"content-type": "application/json"},
    )
