"""examples/generate_image.py runs offline, quickly, and writes a real PNG where it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from allm.providers.fake_images import png

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_generates_and_saves_an_image_offline(tmp_path: Path) -> None:
    env = {"PATH": "", "PYTHONPATH": str(ROOT / "src")}  # no keys, no proxies
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate_image.py"), str(tmp_path / "out")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "prompt: 'A clear sky over the sea', model: fake-painter, images: 1"
    saved = Path(lines[-1])
    assert saved == tmp_path / "out" / "sky.png"
    assert saved.read_bytes() == png(64, 64, (135, 206, 235))
