"""The Python blocks of docs/requests.md and docs/one-request.md run as written, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"(?:(<!-- no-run -->)\n)?```python\n(.*?)```", re.S)


@pytest.mark.parametrize(("page", "blocks"), [("requests.md", 11), ("one-request.md", 1)])
def test_the_requests_pages_blocks_run_offline(page: str, blocks: int) -> None:
    found = BLOCK.findall((DOCS / page).read_text("utf-8"))
    assert len(found) == blocks
    for no_run, code in found:
        compiled = compile(code, f"docs/{page}", "exec")
        if not no_run:
            exec(compiled, {"__name__": "requests_doc"})
