"""examples/extract_typed.py runs offline and prints the typed object after one re-ask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_extracts_a_typed_invoice_offline() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "extract_typed.py")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "", "PYTHONPATH": str(ROOT / "src")},
    )
    lines = result.stdout.strip().splitlines()
    assert lines[1].startswith("attempt 2 after: total:")
    assert lines[-2] == "partial: {'number': 'A-17', 'total': 129.5}"
    assert lines[-1] == "Invoice A-17 129.5 False"
