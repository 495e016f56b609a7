"""examples/mcp_tools.py and the README's MCP block run offline, against a local stdio server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "", "PYTHONPATH": str(ROOT / "src")},  # no keys, no proxies
    )
    return done.stdout.strip().splitlines()


def test_the_example_runs_offline() -> None:
    assert run(str(ROOT / "examples" / "mcp_tools.py")) == [
        "tool: 5.0",
        'tool: {"error":"Error executing tool read_note: no note called \'todo\'; notes: '
        'groceries, ideas"}',
        "tool: eggs, flour, milk",
        "model: 2 + 3 = 5, and you need eggs, flour and milk.",
        "listed: ['notes_add']",
        "async model: Two.",
        "resources: ['notes://index']",
        "index: ['groceries', 'ideas']",
        "prompt: Summarize the note 'ideas' in one sentence.",
    ]


def test_the_readme_block_runs_offline() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## MCP servers' tools") :]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    assert run("-c", block.group(1)) == ["['5.0']", "groceries", "ideas"]
