"""The README's sections on embeddings, moderation, classification, compact tools and testing
run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTIONS = ("Embeddings", "Moderation", "Classification", "Compact tools", "Testing your code")


def blocks(section: str) -> list[str]:
    body = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


@pytest.mark.parametrize("section", SECTIONS)
def test_section_blocks_run_offline(section: str) -> None:
    found = blocks(section)
    assert found
    for code in found:
        exec(compile(code, f"README.md ({section})", "exec"), {"__name__": "readme"})
