"""examples/embed_search.py runs offline and ranks the identical documents first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_embeddings_example_runs_offline() -> None:
    env = {"PATH": "", "PYTHONPATH": str(ROOT / "src")}  # no keys, no proxies
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_search.py")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "4 vectors of 16 dimensions in 2 requests"
    assert lines[1] == "+1.000  The cat sleeps on the warm mat."
    assert lines[2] == "+1.000  The cat sleeps on the warm mat."
    assert len(lines) == 5
