"""``mypy --strict`` reads the typed call keywords: a correct script passes, a misspelled keyword
or a wrong value type is reported at its call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPT = HERE / "user_script.py"
# (what the correct script has, what the broken one has instead)
BREAKS = [
    ("temperature=0.2", "temprature=0.2"),
    ("max_turns=3", "max_turn=3"),
    ("max_turns=2", "max_tuns=2"),
    ('display_name="mine"', 'display_nam="mine"'),
    ('prompt_cache="auto"', 'prompt_cache="always"'),
    ('mode="manual"', "mode=1"),
]


def mypy(*paths: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_a_correct_script_passes_and_each_mistake_is_reported(tmp_path: Path) -> None:
    source = SCRIPT.read_text()
    good = tmp_path / "good_script.py"
    good.write_text(source)
    for right, wrong in BREAKS:
        assert right in source
        source = source.replace(right, wrong)
    broken = tmp_path / "broken_script.py"
    broken.write_text(source + "\nreveal_type(weather)\nreveal_type(population)\n")
    found = mypy(good, broken)  # one run: allm is read once
    assert found.returncode == 1
    out = found.stdout
    assert "good_script.py" not in out, out
    assert 'Unexpected keyword argument "temprature" for "generate"' in out
    assert 'Unexpected keyword argument "max_turn" for "chat"' in out
    assert 'Unexpected keyword argument "max_tuns" for "start"' in out
    assert 'Unexpected keyword argument "display_nam" for "submit"' in out
    assert 'Argument "prompt_cache" to "agenerate" has incompatible type' in out
    assert 'Argument "mode" to "astep" has incompatible type' in out
    assert out.count('Revealed type is "allm.data.tools.Tool"') == 2  # @allm.tool and @allm.tool()
    assert "Found 6 errors in 1 file" in out, out
