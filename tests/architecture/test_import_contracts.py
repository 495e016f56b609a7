"""The layer contracts in pyproject.toml hold on the source, and a wrong import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(source_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "src" / "allm", tmp_path / "allm", ignore=shutil.ignore_patterns("*.pyc")
    )
    return tmp_path


def test_the_source_keeps_every_contract() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # Layer A reaching up into the runner.
        ("data/models.py", "from ..execution import runner", "flows downward"),
        # A provider taking the runner's fold.
        ("providers/fake/adapter.py", "from ...execution import api", "flows downward"),
        # Two rooms of one layer that must stay independent.
        ("sessions/_ops.py", "from ..stores import _base", "flows downward"),
        # The bottom of Layer A reaching up to the data it carries.
        ("errors.py", "from . import data", "flows downward"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    source_copy: Path, module: str, line: str, broken: str
) -> None:
    target = source_copy / "allm" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")

    result = _lint(source_copy)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert broken in result.stdout
