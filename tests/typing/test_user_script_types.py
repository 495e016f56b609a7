"""``mypy --strict`` reads the typed call keywords: a correct script passes, a typo is reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPT = HERE / "user_script.py"


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_a_correct_script_passes_and_a_misspelled_keyword_is_reported(tmp_path: Path) -> None:
    good = mypy(SCRIPT)
    assert good.returncode == 0, good.stdout
    typo = tmp_path / "typo_script.py"
    source = SCRIPT.read_text().replace("temperature=0.2", "temprature=0.2")
    typo.write_text(source.replace("max_turns=3", "max_turn=3"))
    bad = mypy(typo)
    assert bad.returncode == 1
    assert 'Unexpected keyword argument "temprature" for "generate"' in bad.stdout
    assert 'Unexpected keyword argument "max_turn" for "chat"' in bad.stdout
