"""The Python blocks of docs/security.md run as written, offline (``<!-- no-run -->`` ones are
only compiled)."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "security.md"
BLOCK = re.compile(r"(?:(<!-- no-run -->)\n)?```python\n(.*?)```", re.S)


def test_the_security_pages_blocks_run_offline() -> None:
    found = BLOCK.findall(PAGE.read_text("utf-8"))
    assert found
    for no_run, code in found:
        compiled = compile(code, "docs/security.md", "exec")
        if not no_run:
            exec(compiled, {"__name__": "security_doc"})
