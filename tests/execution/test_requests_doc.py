"""The Python blocks of docs/requests.md run as written, offline."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "requests.md"
BLOCK = re.compile(r"(?:(<!-- no-run -->)\n)?```python\n(.*?)```", re.S)


def test_the_requests_pages_blocks_run_offline() -> None:
    found = BLOCK.findall(PAGE.read_text("utf-8"))
    assert len(found) >= 6  # grows as the page does
    for no_run, code in found:
        compiled = compile(code, "docs/requests.md", "exec")
        if not no_run:
            exec(compiled, {"__name__": "requests_doc"})
