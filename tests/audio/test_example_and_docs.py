"""examples/transcribe_audio.py runs offline and writes the transcript where it says; the Python
blocks of the README's audio sections and of docs/design/audio.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import allm

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_transcribes_a_wav_offline(tmp_path: Path) -> None:
    env = {"PATH": "", "PYTHONPATH": str(ROOT / "src")}  # no keys, no proxies
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "transcribe_audio.py"), str(tmp_path / "out")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "text: 'Hello world.', language: en, duration_ms: 1000"
    assert lines[1].split() == ["0", "480", "Hello"]
    assert lines[2].split() == ["480", "1000", "world"]
    saved = Path(lines[-1])
    assert saved == tmp_path / "out" / "greeting.json"
    assert allm.from_json(saved.read_text()).words[1].text == "world"
    assert (tmp_path / "out" / "greeting.wav").stat().st_size == 44 + 32_000


def _blocks(path: Path, start: str | None = None, stop: str | None = None) -> list[str]:
    text = path.read_text()
    if start is not None:
        text = text[text.index(start) : text.index(stop) if stop else None]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize(
    "block",
    [
        *_blocks(ROOT / "README.md", "## Speech", "## Fallbacks, limits"),
        *_blocks(ROOT / "docs" / "design" / "audio.md"),
    ],
)
def test_the_audio_documentation_runs(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block, "<docs>", "exec"), {})
    assert capsys.readouterr().out
