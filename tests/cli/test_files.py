"""The user files, in-process: a failed write leaves the old file and no temporary behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from allm.cli import files


def test_a_failed_replace_keeps_the_old_keys_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLM_USER_DIR", str(tmp_path))
    files.write_keys({"openai": "sk-old-0123456789"})

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(files.UserFileError, match=r"cannot write .*keys\.json: No space left"):
        files.write_keys({"openai": "sk-new-0123456789"})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["keys.json"]
    monkeypatch.undo()
    monkeypatch.setenv("ALLM_USER_DIR", str(tmp_path))
    assert files.read_keys() == {"openai": "sk-old-0123456789"}


def test_the_default_user_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLM_USER_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert files.user_dir() == tmp_path / "data" / "allm"
    assert files.logs_db() == tmp_path / "data" / "allm" / "logs.db"
