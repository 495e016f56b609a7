"""The README section and the design pages on resilience and middleware run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PAGES = ("docs/design/resilience.md", "docs/design/middleware.md")


def _blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _run(code: str, where: str) -> None:
    exec(compile(code, where, "exec"), {"__name__": "docs"})


def test_the_readme_section_runs_offline() -> None:
    section = README.split("\n## Fallbacks, limits, middleware, history\n", 1)[1].split("\n## ", 1)[
        0
    ]
    found = _blocks(section)
    assert found
    for code in found:
        _run(code, "README.md (fallbacks)")


@pytest.mark.parametrize("page", PAGES)
def test_the_design_pages_run_offline(page: str) -> None:
    found = _blocks((ROOT / page).read_text())
    assert len(found) == 2
    for code in found:
        _run(code, page)
