"""Every ```python block of README.md and of every page under docs/ runs as written, offline.

The rule (also in docs/README.md):

* The blocks of one page run in order, in one namespace, in a fresh temporary directory: a block
  may use what an earlier block on the same page defined, and files it writes go nowhere.
* A block may ``await`` at top level; it then runs in an event loop.
* A block that cannot run offline (it needs a real key) has the line ``<!-- no-run -->`` as the
  last non-blank line before its fence: it is only compiled.
* Offline means it: a connection to anything but the loopback interface fails the block.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_RUN = "<!-- no-run -->"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the first code line, 1-based
    code: str
    run: bool


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown page, with whether each one runs."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening["indent"]
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        if opening["lang"] == "python":
            before = next((text.strip() for text in reversed(lines[:index]) if text.strip()), "")
            body = [
                text[len(indent) :] if text.startswith(indent) else text
                for text in lines[index + 1 : end]
            ]
            found.append(Block(path, index + 2, "\n".join(body) + "\n", before != NO_RUN))
        index = end + 1
    return found


def _compile(block: Block) -> Any:
    # Padding keeps the page's line numbers in tracebacks.
    source = "\n" * (block.line - 1) + block.code
    return compile(
        source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse every connection that leaves the machine."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise OSError(f"a documentation snippet tried to reach {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_extractor_sees_fences_markers_and_indented_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- no-run -->\n\n```python\nneeds_a_key()\n```\n\n"
        "```sh\nnot python\n```\n\n- item\n\n  ```python\n  y = x + 1\n  ```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.line, b.code, b.run) for b in found] == [
        (4, "x = 1\n", True),
        (10, "needs_a_key()\n", False),
        (20, "y = x + 1\n", True),
    ]


@pytest.mark.parametrize("path", pages(), ids=_page_id)
def test_every_python_block_runs_offline(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: None
) -> None:
    monkeypatch.chdir(tmp_path)
    # Pages are read from the repository root, where `examples/` is beside them.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    namespace: dict[str, Any] = {"__name__": "__snippet__"}
    for block in blocks(path):
        code = _compile(block)
        if not block.run:
            continue
        where = f"{_page_id(path)}:{block.line}"
        try:
            if code.co_flags & inspect.CO_COROUTINE:
                asyncio.run(eval(code, namespace))
            else:
                exec(code, namespace)
        except Exception as exc:  # the page and line of the block that failed
            raise AssertionError(
                f"the block at {where} failed: {type(exc).__name__}: {exc}"
            ) from exc
    os.chdir(ROOT)
